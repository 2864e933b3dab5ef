// FP16 baseline PE: exact FP16 x FP16 product, FP32 accumulation in k order, drained like a group sum.
module mixpe_pe_fp16 (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic [15:0] x_i,
  input  logic        valid_i,
  input  logic        last_i,
  input  logic [15:0] q_i,
  output logic [15:0] x_o,
  output logic        valid_o,
  output logic        last_o,
  output logic [15:0] q_o,
  input  logic        dr_valid_i,
  input  logic [31:0] dr_data_i,
  output logic        dr_ready_o,
  output logic        dr_valid_o,
  output logic [31:0] dr_data_o,
  input  logic        dr_ready_i
);
  logic [31:0] prod, acc_q, acc_sum;

  mixpe_fp_mul16 u_mul (.a_i(x_i), .b_i(q_i), .y_o(prod));
  mixpe_fp_add32 u_add (.a_i(acc_q), .b_i(prod), .y_o(acc_sum));

  // The reference accumulates from +0.0, so each new sum starts from +0.0 as well.
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      acc_q   <= '0;
      x_o     <= '0;
      valid_o <= 1'b0;
      last_o  <= 1'b0;
      q_o     <= '0;
    end else begin
      if (valid_i) acc_q <= last_i ? 32'd0 : acc_sum;
      x_o     <= x_i;
      valid_o <= valid_i;
      last_o  <= last_i;
      q_o     <= q_i;
    end
  end

  mixpe_drain_slot #(.Width(32)) u_slot (
    .clk_i       (clk_i),
    .rst_ni      (rst_ni),
    .load_i      (valid_i & last_i),
    .load_data_i (acc_sum),
    .up_valid_i  (dr_valid_i),
    .up_data_i   (dr_data_i),
    .up_ready_o  (dr_ready_o),
    .down_valid_o(dr_valid_o),
    .down_data_o (dr_data_o),
    .down_ready_i(dr_ready_i)
  );
endmodule
