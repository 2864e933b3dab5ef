// BitFusion fusion unit datapath: 16 BitBricks and a 4-level shift-add tree; the sum of the cycle's (8/w)(8/a) products.
//
// Widths: 0 = 2-bit, 1 = 4-bit, 2 = 8-bit (3 acts as 8-bit). Product p takes the weight q_i[p*w +: w] and the
// activation x_i[p*a +: a], both two's complement. Brick b's index bits are, from the bottom, v (the activation's
// 2-bit piece, log2(a/2) bits), u (the weight's piece, log2(w/2) bits) and p; the brick multiplies those pieces,
// each signed when it is its operand's top piece, and its product weighs 2^(2(u + v)). As in the paper's
// hierarchical fusion, each tree level adds neighbouring partial sums with the upper one shifted by what its
// index bit contributes in this mode (0, 2 or 4); all products of a cycle go into the one sum.
module mixpe_bitfusion_mul (
  input  logic [1:0]  wmode_i,
  input  logic [1:0]  amode_i,
  input  logic [31:0] q_i,
  input  logic [31:0] x_i,
  // Signed; |sum| <= 2^14 in every mode (the W8A8 product -128 * -128).
  output logic [15:0] sum_o
);
  logic [1:0] lw, la;  // log2 of the pieces per weight / activation

  assign lw = (wmode_i == 2'd3) ? 2'd2 : wmode_i;
  assign la = (amode_i == 2'd3) ? 2'd2 : amode_i;

  logic [16*5-1:0] bp;  // brick b's product at [5b +: 5]

  for (genvar b = 0; b < 16; b++) begin : g_brick
    localparam logic [3:0] Idx = 4'(b);
    logic [3:0] wpiece, apiece, prod_idx, u, v;
    logic [1:0] wbits, abits;
    logic       wsign, asign;

    always_comb begin
      wpiece   = Idx >> la;  // = prod_idx * (w/2) + u: the weight's 2-bit piece in q_i
      prod_idx = Idx >> (3'(lw) + 3'(la));
      v        = Idx & ~(4'hF << la);
      u        = wpiece & ~(4'hF << lw);
      apiece   = (prod_idx << la) | v;
      wsign    = u == ~(4'hF << lw);
      asign    = v == ~(4'hF << la);
    end
    assign wbits = q_i[{wpiece, 1'b0} +: 2];
    assign abits = x_i[{apiece, 1'b0} +: 2];

    mixpe_bitbrick u_brick (.a_i(wbits), .a_signed_i(wsign), .b_i(abits), .b_signed_i(asign), .p_o(bp[5*b +: 5]));
  end

  // Shift of index bit i: 2 * 2^i while i is a v bit, 2 * 2^(i - log2(a/2)) while a u bit, 0 for p bits.
  logic [2:0] c0, c1, c2, c3;
  assign c0 = (la != 2'd0 || lw != 2'd0) ? 3'd2 : 3'd0;
  assign c1 = (la == 2'd2) ? 3'd4 : (la == 2'd1) ? ((lw != 2'd0) ? 3'd2 : 3'd0) : ((lw == 2'd2) ? 3'd4 : 3'd0);
  assign c2 = (la == 2'd2) ? ((lw != 2'd0) ? 3'd2 : 3'd0) : ((la == 2'd1 && lw == 2'd2) ? 3'd4 : 3'd0);
  assign c3 = (la == 2'd2 && lw == 2'd2) ? 3'd4 : 3'd0;

  // Bricks lie in [-6, 9], so the levels need 7, 11 and 15 signed bits; the last wraps at 16 bits,
  // where every mode's true sum fits.
  logic [8*7-1:0]  s1;
  logic [4*11-1:0] s2;
  logic [2*15-1:0] s3;
  for (genvar j = 0; j < 8; j++) begin : g_l1
    assign s1[7*j +: 7] = 7'($signed(bp[5*(2*j) +: 5])) + (7'($signed(bp[5*(2*j+1) +: 5])) << c0);
  end
  for (genvar j = 0; j < 4; j++) begin : g_l2
    assign s2[11*j +: 11] = 11'($signed(s1[7*(2*j) +: 7])) + (11'($signed(s1[7*(2*j+1) +: 7])) << c1);
  end
  for (genvar j = 0; j < 2; j++) begin : g_l3
    assign s3[15*j +: 15] = 15'($signed(s2[11*(2*j) +: 11])) + (15'($signed(s2[11*(2*j+1) +: 11])) << c2);
  end
  assign sum_o = 16'($signed(s3[14:0])) + (16'($signed(s3[29:15])) << c3);
endmodule
