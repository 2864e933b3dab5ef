// BitFusion's BitBrick: a 2-bit x 2-bit multiplier; a signed operand (the top piece of a two's complement number) extends its sign.
module mixpe_bitbrick (
  input  logic [1:0] a_i,
  input  logic       a_signed_i,
  input  logic [1:0] b_i,
  input  logic       b_signed_i,
  // Signed product in [-6, 9].
  output logic [4:0] p_o
);
  logic signed [2:0] a_ext, b_ext;

  assign a_ext = {a_signed_i & a_i[1], a_i};
  assign b_ext = {b_signed_i & b_i[1], b_i};
  assign p_o   = 5'(a_ext * b_ext);
endmodule
