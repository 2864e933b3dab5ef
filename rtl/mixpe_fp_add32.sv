// IEEE binary32 adder, round to nearest even, subnormals in and out, canonical quiet NaN.
module mixpe_fp_add32 (
  input  logic [31:0] a_i,
  input  logic [31:0] b_i,
  output logic [31:0] y_o
);
  logic        swap;
  logic [31:0] op_l, op_s;
  logic        sb, ss, eff_sub;
  logic [23:0] sig_b, sig_s;
  logic signed [9:0] exp_b, exp_s;
  logic [9:0]  shift_d;
  logic [4:0]  shift_cap;
  logic [57:0] s_wide;
  logic [26:0] l27, s27;
  logic [27:0] sum;
  logic [26:0] norm;
  logic [4:0]  lz;
  logic [9:0]  max_left, shl;
  logic signed [9:0] exp_n;
  logic [24:0] sig_r;
  logic [23:0] sig;
  logic signed [9:0] exp_r;
  logic        round_up;
  logic        a_nan, b_nan, a_inf, b_inf;

  always_comb begin
    // Ordering by the magnitude bits orders by value for every finite and infinite operand.
    swap  = a_i[30:0] < b_i[30:0];
    op_l   = swap ? b_i : a_i;
    op_s = swap ? a_i : b_i;
    sb    = op_l[31];
    ss    = op_s[31];
    eff_sub = sb ^ ss;
    sig_b = {op_l[30:23] != 8'd0, op_l[22:0]};
    sig_s = {op_s[30:23] != 8'd0, op_s[22:0]};
    exp_b = (op_l[30:23] == 8'd0) ? -10'sd126 : $signed({2'b00, op_l[30:23]}) - 10'sd127;
    exp_s = (op_s[30:23] == 8'd0) ? -10'sd126 : $signed({2'b00, op_s[30:23]}) - 10'sd127;
    shift_d  = 10'(exp_b - exp_s);
    shift_cap = (shift_d > 10'd31) ? 5'd31 : shift_d[4:0];
    // Guard, round and sticky below the 24-bit significand make the one rounding exact.
    s_wide = {sig_s, 2'b00, 32'd0} >> shift_cap;
    s27   = {s_wide[57:32], |s_wide[31:0]};
    l27   = {sig_b, 3'b000};
    sum   = eff_sub ? ({1'b0, l27} - {1'b0, s27}) : ({1'b0, l27} + {1'b0, s27});

    lz = 5'd27;
    for (int i = 0; i < 27; i++) begin
      if (sum[i]) lz = 5'(26 - i);
    end
    max_left = 10'(exp_b + 10'sd126);
    shl = ({5'd0, lz} < max_left) ? {5'd0, lz} : max_left;
    if (sum[27]) begin
      norm  = {sum[27:2], sum[1] | sum[0]};
      exp_n = exp_b + 10'sd1;
    end else begin
      norm  = sum[26:0] << shl;
      exp_n = exp_b - $signed(shl);
    end
    round_up = norm[2] & (norm[1] | norm[0] | norm[3]);
    sig_r = {1'b0, norm[26:3]} + {24'd0, round_up};
    if (sig_r[24]) begin
      sig   = sig_r[24:1];
      exp_r = exp_n + 10'sd1;
    end else begin
      sig   = sig_r[23:0];
      exp_r = exp_n;
    end

    a_nan = (a_i[30:23] == 8'hFF) && (a_i[22:0] != 23'd0);
    b_nan = (b_i[30:23] == 8'hFF) && (b_i[22:0] != 23'd0);
    a_inf = (a_i[30:23] == 8'hFF) && (a_i[22:0] == 23'd0);
    b_inf = (b_i[30:23] == 8'hFF) && (b_i[22:0] == 23'd0);

    if (a_nan || b_nan || (a_inf && b_inf && (a_i[31] != b_i[31]))) begin
      y_o = 32'h7FC0_0000;
    end else if (a_inf || b_inf) begin
      y_o = {sb, 8'hFF, 23'd0};
    end else if (sum == 28'd0) begin
      // An exact zero sum is +0 in round-to-nearest unless both operands are -0.
      y_o = {a_i[31] & b_i[31], 31'd0};
    end else if (exp_r > 10'sd127) begin
      y_o = {sb, 8'hFF, 23'd0};
    end else if (!sig[23]) begin
      y_o = {sb, 8'd0, sig[22:0]};
    end else begin
      y_o = {sb, 8'(exp_r + 10'sd127), sig[22:0]};
    end
  end
endmodule
