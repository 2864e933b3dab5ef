// Signed integer to IEEE binary32, round to nearest even (exact up to 24 significant bits).
module mixpe_fp_int2f32 #(
  parameter int unsigned IntW = 32
) (
  input  logic [IntW-1:0] int_i,
  output logic [31:0]     y_o
);
  localparam int unsigned LzW = $clog2(IntW + 1);

  logic            sign;
  logic [IntW-1:0] mag, norm;
  logic [LzW-1:0]  lz;
  logic [IntW+23:0] wide;
  logic [24:0]     sig_r;
  logic [22:0]     frac;
  logic [9:0]      exp_r;
  logic            round_up;

  always_comb begin
    sign = int_i[IntW-1];
    // Two's complement negation gives the right magnitude even for the most negative value.
    mag  = sign ? (~int_i + 1'b1) : int_i;
    lz = LzW'(IntW);
    for (int i = 0; i < IntW; i++) begin
      if (mag[i]) lz = LzW'(IntW - 1 - i);
    end
    norm = mag << lz;
    wide = {norm, 24'd0};
    round_up = wide[IntW - 1] & ((|wide[IntW-2:0]) | wide[IntW]);
    sig_r = {1'b0, wide[IntW+23:IntW]} + {24'd0, round_up};
    if (sig_r[24]) begin
      frac  = sig_r[23:1];
      exp_r = 10'(IntW) - 10'(lz);
    end else begin
      frac  = sig_r[22:0];
      exp_r = 10'(IntW) - 10'd1 - 10'(lz);
    end
    if (mag == '0) y_o = 32'd0;
    else           y_o = {sign, 8'(exp_r + 10'd127), frac};
  end
endmodule
