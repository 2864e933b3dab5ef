// Left-edge unit of one array row: FP16/BF16 pre-alignment, the group activation sum A = sum x, and its drain slot.
module mixpe_row_edge #(
  parameter int unsigned PeKind = 0,
  parameter bit          ActFp  = 1'b0,
  parameter int unsigned XW     = 8,
  parameter int unsigned AW     = 16,
  parameter int unsigned RowW   = 2,
  parameter int unsigned Row    = 0,
  // Drain item: {row, first group, last group, A, sh, sx}.
  parameter int unsigned ItemW  = RowW + 2 + AW + 9 + 32
) (
  input  logic              clk_i,
  input  logic              rst_ni,
  input  logic              bf16_i,
  input  logic              valid_i,
  input  logic              last_i,
  input  logic              tfirst_i,
  input  logic              tlast_i,
  input  logic [XW-1:0]     x_i,
  input  logic signed [8:0] e_i,
  input  logic [31:0]       sx_i,
  output logic [XW-1:0]     x_o,
  input  logic              dr_valid_i,
  input  logic [ItemW-1:0]  dr_data_i,
  output logic              dr_ready_o,
  output logic              dr_valid_o,
  output logic [ItemW-1:0]  dr_data_o,
  input  logic              dr_ready_i
);
  logic [AW-1:0]     a_sum;
  logic signed [8:0] sh;
  logic [31:0]       sx;

  if (PeKind == 0 && ActFp) begin : g_align
    logic unused_sx;
    assign unused_sx = ^sx_i;
    mixpe_bfp_align u_align (.bf16_i(bf16_i), .x_i(x_i), .e_i(e_i), .mant_o(x_o));
    // The shared exponent joins the scale in the dequantization step; aligned values carry no token scale.
    assign sh = e_i - 9'sd13;
    assign sx = 32'h3F80_0000;
  end else begin : g_int
    logic unused_fp;
    assign unused_fp = ^{bf16_i, e_i};
    assign x_o = x_i;
    assign sh  = '0;
    assign sx  = (PeKind == 2) ? 32'h3F80_0000 : sx_i;
  end

  if (PeKind == 0) begin : g_asum
    logic [AW-1:0] a_q;
    assign a_sum = a_q + AW'($signed(x_o));
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni)      a_q <= '0;
      else if (valid_i) a_q <= last_i ? '0 : a_sum;
    end
  end else begin : g_no_asum
    // Baselines have no zero point, so the dequantization unit needs no activation sum.
    assign a_sum = '0;
  end

  mixpe_drain_slot #(.Width(ItemW)) u_slot (
    .clk_i       (clk_i),
    .rst_ni      (rst_ni),
    .load_i      (valid_i & last_i),
    .load_data_i ({RowW'(Row), tfirst_i, tlast_i, a_sum, sh, sx}),
    .up_valid_i  (dr_valid_i),
    .up_data_i   (dr_data_i),
    .up_ready_o  (dr_ready_o),
    .down_valid_o(dr_valid_o),
    .down_data_o (dr_data_o),
    .down_ready_i(dr_ready_i)
  );
endmodule
