// Shared exponent of a (token, group) of FP16/BF16 activations: running max of effective exponents.
module mixpe_bfp_maxexp (
  input  logic              clk_i,
  input  logic              rst_ni,
  input  logic              bf16_i,
  input  logic              valid_i,
  input  logic              first_i,
  input  logic [15:0]       x_i,
  output logic signed [8:0] e_max_o
);
  logic signed [8:0] e_x, e_q;
  logic              unused_bits;

  // Only the exponent field matters here.
  assign unused_bits = ^{x_i[15], x_i[6:0]};

  // Zeros and subnormals count as the minimum normal exponent: no leading-zero count needed.
  always_comb begin
    if (bf16_i) e_x = (x_i[14:7] == 8'd0) ? -9'sd126 : $signed({1'b0, x_i[14:7]}) - 9'sd127;
    else        e_x = (x_i[14:10] == 5'd0) ? -9'sd14 : $signed({4'd0, x_i[14:10]}) - 9'sd15;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni)                   e_q <= '0;
    else if (valid_i && first_i)   e_q <= e_x;
    else if (valid_i && e_x > e_q) e_q <= e_x;
  end

  assign e_max_o = e_q;
endmodule
