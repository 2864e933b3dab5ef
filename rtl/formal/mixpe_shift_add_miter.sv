// Formal miter: the shift-and-add product against the `*` product of the same operands; ok_o must be constant 1.
module mixpe_shift_add_miter #(
  parameter int unsigned ActW    = 8,
  parameter int unsigned WBits   = 4,
  parameter bit          WSigned = 1'b0
) (
  input  logic [ActW-1:0]  x_i,
  input  logic [WBits-1:0] q_i,
  output logic             ok_o
);
  localparam int unsigned ProdW = ActW + WBits;
  logic [ProdW-1:0]        prod;
  logic signed [WBits:0]   q_ext;
  logic signed [ProdW-1:0] spec;

  mixpe_shift_add #(.ActW(ActW), .WBits(WBits), .WSigned(WSigned), .ProdW(ProdW)) u_dut (
    .x_i   (x_i),
    .q_i   (q_i),
    .prod_o(prod)
  );

  assign q_ext = WSigned ? {q_i[WBits-1], q_i} : {1'b0, q_i};
  assign spec  = ProdW'($signed(x_i) * q_ext);
  assign ok_o  = (prod == spec);
endmodule
