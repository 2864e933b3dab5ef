// IEEE binary32 to binary16, round to nearest even, overflow to infinity, canonical quiet NaN.
module mixpe_fp_f32tof16 (
  input  logic [31:0] a_i,
  output logic [15:0] h_o
);
  logic [23:0] sig_a;
  logic signed [9:0] exp_a, exp_u, exp_r;
  logic [9:0]  denorm;
  logic [5:0]  denorm_cap;
  logic [63:0] wide;
  logic [11:0] sig_r;
  logic [10:0] sig;
  logic        round_up;

  always_comb begin
    sig_a = {a_i[30:23] != 8'd0, a_i[22:0]};
    exp_a = (a_i[30:23] == 8'd0) ? -10'sd126 : $signed({2'd0, a_i[30:23]}) - 10'sd127;
    // Below 2^-14 the result is a binary16 subnormal: shift further right into its fixed grid.
    if (exp_a < -10'sd14) begin
      denorm = 10'(-10'sd14 - exp_a);
      exp_u  = -10'sd14;
    end else begin
      denorm = 10'd0;
      exp_u  = exp_a;
    end
    denorm_cap = (denorm > 10'd40) ? 6'd40 : denorm[5:0];
    wide = {sig_a, 40'd0} >> denorm_cap;
    round_up = wide[52] & ((|wide[51:0]) | wide[53]);
    sig_r = {1'b0, wide[63:53]} + {11'd0, round_up};
    if (sig_r[11]) begin
      sig   = sig_r[11:1];
      exp_r = exp_u + 10'sd1;
    end else begin
      sig   = sig_r[10:0];
      exp_r = exp_u;
    end
    if (a_i[30:23] == 8'hFF) begin
      h_o = (a_i[22:0] == 23'd0) ? {a_i[31], 5'h1F, 10'd0} : {a_i[31], 5'h1F, 10'h200};
    end else if (exp_r > 10'sd15) begin
      h_o = {a_i[31], 5'h1F, 10'd0};
    end else if (!sig[10]) begin
      h_o = {a_i[31], 5'd0, sig[9:0]};
    end else begin
      h_o = {a_i[31], 5'(exp_r + 10'sd15), sig[9:0]};
    end
  end
endmodule
