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
  logic [AccW-1:0]  acc_q, acc_sum;

  logic signed [WBits:0] q_ext;

  assign q_ext = {WSigned & q_i[WBits-1], q_i};
  assign prod  = ProdW'($signed(x_i) * q_ext);

  assign acc_sum = acc_q + AccW'($signed(prod));

  // The completed sum goes to the shadow slot while P restarts at 0: no bubble between groups.
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      acc_q   <= '0;
      x_o     <= '0;
      valid_o <= 1'b0;
      last_o  <= 1'b0;
      q_o     <= '0;
    end else begin
      if (valid_i) acc_q <= last_i ? '0 : acc_sum;
      x_o     <= x_i;
      valid_o <= valid_i;
      last_o  <= last_i;
      q_o     <= q_i;
    end
  end

  mixpe_drain_slot #(.Width(AccW)) u_slot (
    .clk_i       (clk_i),
    .rst_ni      (rst_ni),
    .load_i      (valid_i & last_i),
    .load_data_i (acc_sum),
    .up_valid_i  (dr_valid_i),
    .up_data_i   (dr_data_i),
    .up_ready_o  (dr_ready_o),
    .down_valid_o(dr_valid_o),
    .down_data_o (dr_data_o),
    .down_ready_i(dr_ready_i)
  );
endmodule
