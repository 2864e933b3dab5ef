// The weight-stationary PE in its two kinds behind identical ports, for the equivalence proof in run.sh.
module mixpe_pe_ws_shift_add #(
  parameter int unsigned ActW    = 8,
  parameter int unsigned WBits   = 4,
  parameter bit          WSigned = 1'b0,
  parameter int unsigned PW      = 19
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic             w_load_i,
  input  logic [WBits-1:0] w_i,
  input  logic [ActW-1:0]  x_i,
  input  logic             valid_i,
  input  logic [PW-1:0]    psum_i,
  output logic [ActW-1:0]  x_o,
  output logic             valid_o,
  output logic [PW-1:0]    psum_o
);
  mixpe_pe_ws #(.PeKind(0), .ActW(ActW), .WBits(WBits), .WSigned(WSigned), .PW(PW)) u_pe (.*);
endmodule

module mixpe_pe_ws_mul #(
  parameter int unsigned ActW    = 8,
  parameter int unsigned WBits   = 4,
  parameter bit          WSigned = 1'b0,
  parameter int unsigned PW      = 19
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic             w_load_i,
  input  logic [WBits-1:0] w_i,
  input  logic [ActW-1:0]  x_i,
  input  logic             valid_i,
  input  logic [PW-1:0]    psum_i,
  output logic [ActW-1:0]  x_o,
  output logic             valid_o,
  output logic [PW-1:0]    psum_o
);
  mixpe_pe_ws #(.PeKind(1), .ActW(ActW), .WBits(WBits), .WSigned(WSigned), .PW(PW)) u_pe (.*);
endmodule
