// IEEE binary32 multiplier with an exact power-of-two scale: y = rne(a * b * 2^adj), one rounding.
module mixpe_fp_mul32 #(
  parameter int unsigned AdjW = 9
) (
  input  logic [31:0]            a_i,
  input  logic [31:0]            b_i,
  input  logic signed [AdjW-1:0] adj_i,
  output logic [31:0]            y_o
);
  logic        sign;
  logic [23:0] sig_a, sig_b;
  logic signed [11:0] exp_a, exp_b, exp_p, exp_u, exp_r;
  logic [47:0] prod, norm;
  logic [5:0]  lz;
  logic [11:0] denorm;
  logic [4:0]  denorm_cap;
  logic [79:0] wide;
  logic [23:0] sig;
  logic [24:0] sig_r;
  logic        round_up;
  logic        a_nan, b_nan, a_inf, b_inf, a_zero, b_zero;

  always_comb begin
    sign  = a_i[31] ^ b_i[31];
    sig_a = {a_i[30:23] != 8'd0, a_i[22:0]};
    sig_b = {b_i[30:23] != 8'd0, b_i[22:0]};
    exp_a = (a_i[30:23] == 8'd0) ? -12'sd126 : $signed({4'd0, a_i[30:23]}) - 12'sd127;
    exp_b = (b_i[30:23] == 8'd0) ? -12'sd126 : $signed({4'd0, b_i[30:23]}) - 12'sd127;
    prod  = sig_a * sig_b;
    lz = 6'd48;
    for (int i = 0; i < 48; i++) begin
      if (prod[i]) lz = 6'(47 - i);
    end
    norm = prod << lz;
    // prod * 2^(exp_a + exp_b - 46 + adj) with its leading one at bit 47 - lz.
    exp_p = exp_a + exp_b + 12'(adj_i) + 12'sd1 - $signed({6'd0, lz});
    if (exp_p < -12'sd126) begin
      denorm = 12'(-12'sd126 - exp_p);
      exp_u  = -12'sd126;
    end else begin
      denorm = 12'd0;
      exp_u  = exp_p;
    end
    denorm_cap = (denorm > 12'd26) ? 5'd26 : denorm[4:0];
    wide = {norm, 32'd0} >> denorm_cap;
    round_up = wide[55] & ((|wide[54:0]) | wide[56]);
    sig_r = {1'b0, wide[79:56]} + {24'd0, round_up};
    if (sig_r[24]) begin
      sig   = sig_r[24:1];
      exp_r = exp_u + 12'sd1;
    end else begin
      sig   = sig_r[23:0];
      exp_r = exp_u;
    end

    a_nan  = (a_i[30:23] == 8'hFF) && (a_i[22:0] != 23'd0);
    b_nan  = (b_i[30:23] == 8'hFF) && (b_i[22:0] != 23'd0);
    a_inf  = (a_i[30:23] == 8'hFF) && (a_i[22:0] == 23'd0);
    b_inf  = (b_i[30:23] == 8'hFF) && (b_i[22:0] == 23'd0);
    a_zero = a_i[30:0] == 31'd0;
    b_zero = b_i[30:0] == 31'd0;

    if (a_nan || b_nan || (a_inf && b_zero) || (b_inf && a_zero)) begin
      y_o = 32'h7FC0_0000;
    end else if (a_inf || b_inf) begin
      y_o = {sign, 8'hFF, 23'd0};
    end else if (a_zero || b_zero) begin
      y_o = {sign, 31'd0};
    end else if (exp_r > 12'sd127) begin
      y_o = {sign, 8'hFF, 23'd0};
    end else if (!sig[23]) begin
      y_o = {sign, 8'd0, sig[22:0]};
    end else begin
      y_o = {sign, 8'(exp_r + 12'sd127), sig[22:0]};
    end
  end
endmodule
