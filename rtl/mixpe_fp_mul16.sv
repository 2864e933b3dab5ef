// Exact binary16 x binary16 product as binary32 (11x11-bit significands always fit; no rounding).
module mixpe_fp_mul16 (
  input  logic [15:0] a_i,
  input  logic [15:0] b_i,
  output logic [31:0] y_o
);
  logic [31:0] a32, b32;
  logic [21:0] prod;
  logic [8:0]  exp_sum;
  logic        unused_bits;
  logic        sign, a_nan, b_nan, a_inf, b_inf, a_zero, b_zero;

  mixpe_fp_f16tof32 u_a (.h_i(a_i), .y_o(a32));
  mixpe_fp_f16tof32 u_b (.h_i(b_i), .y_o(b32));

  // Signs, specials and the always-zero low fraction bits are taken from the binary16 inputs.
  assign unused_bits = ^{a32[31], a32[12:0], b32[31], b32[12:0], exp_sum[8]};

  always_comb begin
    sign = a_i[15] ^ b_i[15];
    // After widening, every finite nonzero operand is normal with at most 11 significant bits.
    prod = {1'b1, a32[22:13]} * {1'b1, b32[22:13]};
    exp_sum = {1'b0, a32[30:23]} + {1'b0, b32[30:23]} - 9'd127 + {8'd0, prod[21]};
    a_nan  = (a_i[14:10] == 5'h1F) && (a_i[9:0] != 10'd0);
    b_nan  = (b_i[14:10] == 5'h1F) && (b_i[9:0] != 10'd0);
    a_inf  = (a_i[14:10] == 5'h1F) && (a_i[9:0] == 10'd0);
    b_inf  = (b_i[14:10] == 5'h1F) && (b_i[9:0] == 10'd0);
    a_zero = a_i[14:0] == 15'd0;
    b_zero = b_i[14:0] == 15'd0;
    if (a_nan || b_nan || (a_inf && b_zero) || (b_inf && a_zero)) y_o = 32'h7FC0_0000;
    else if (a_inf || b_inf)                                       y_o = {sign, 8'hFF, 23'd0};
    else if (a_zero || b_zero)                                     y_o = {sign, 31'd0};
    else if (prod[21])                                             y_o = {sign, exp_sum[7:0], prod[20:0], 2'b00};
    else                                                           y_o = {sign, exp_sum[7:0], prod[19:0], 3'b000};
  end
endmodule
