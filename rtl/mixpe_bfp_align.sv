// Block-floating-point pre-alignment of one FP16/BF16 activation: mant = rne(x * 2^(13 - E)), E the group's shared exponent.
module mixpe_bfp_align (
  input  logic              bf16_i,
  input  logic [15:0]       x_i,
  input  logic signed [8:0] e_i,
  output logic [15:0]       mant_o
);
  logic [10:0] sig;
  logic signed [9:0] e_x, gap;
  logic [4:0]  gap_cap;
  logic [29:0] wide;
  logic [14:0] mag;
  logic        round_up;

  always_comb begin
    // Both formats become sig * 2^(e_x - 10) with an 11-bit significand (BF16's 8 bits padded).
    if (bf16_i) begin
      sig = {x_i[14:7] != 8'd0, x_i[6:0], 3'b000};
      e_x = (x_i[14:7] == 8'd0) ? -10'sd126 : $signed({2'd0, x_i[14:7]}) - 10'sd127;
    end else begin
      sig = {x_i[14:10] != 5'd0, x_i[9:0]};
      e_x = (x_i[14:10] == 5'd0) ? -10'sd14 : $signed({5'd0, x_i[14:10]}) - 10'sd15;
    end
    // mant = sig * 2^(3 - gap) with gap = E - e_x >= 0: three bits of headroom, then rounding.
    gap = 10'(e_i) - e_x;
    gap_cap = (gap > 10'sd16) ? 5'd16 : gap[4:0];
    wide = {sig, 3'b000, 16'd0} >> gap_cap;
    round_up = wide[15] & ((|wide[14:0]) | wide[16]);
    mag = {1'b0, wide[29:16]} + {14'd0, round_up};
    mant_o = x_i[15] ? -{1'b0, mag} : {1'b0, mag};
  end
endmodule
