// Conventional integer MAC PE (multiplier): the INT8xINT8 baseline and the multiplier INT4xINT8 reference for area.
module mixpe_pe_mac #(
  parameter int unsigned ActW     = 8,
  parameter int unsigned WBits    = 4,
  parameter bit          WSigned  = 1'b0,
  parameter int unsigned GroupMax = 128,
  // |q*x| < 2^(ActW+WBits-1) for unsigned and <= 2^(ActW+WBits-2) for signed codes; a group adds log2(g) bits.
  parameter int unsigned AccW     = ActW + WBits + $clog2(GroupMax)
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic [ActW-1:0]  x_i,
  input  logic             valid_i,
  input  logic             last_i,
  input  logic [WBits-1:0] q_i,
  output logic [ActW-1:0]  x_o,
  output logic             valid_o,
  output logic             last_o,
  output logic [WBits-1:0] q_o,
  input  logic             dr_valid_i,
  input  logic [AccW-1:0]  dr_data_i,
  output logic             dr_ready_o,
  output logic             dr_valid_o,
  output logic [AccW-1:0]  dr_data_o,
  input  logic             dr_ready_i
);
  localparam int unsigned ProdW = ActW + WBits;

  logic [ProdW-1:0] prod;

  logic signed [WBits:0] q_ext;

  assign q_ext = {WSigned & q_i[WBits-1], q_i};
  assign prod  = ProdW'($signed(x_i) * q_ext);

  mixpe_pe_acc #(.XW(ActW), .QW(WBits), .AccW(AccW)) u_acc (.add_i(AccW'($signed(prod))), .*);
endmodule
