// Per-column dequantization unit, 5 stages: G = P - zA; fp32(G); d = fp32(G)*fp32(s)*2^sh; acc += d; y = acc*sx.
module mixpe_dequant #(
  // 0: mixpe (group sums), 1: int8 baseline (one int32 sum, z = 0), 2: fp16 baseline (FP32 sums pass through).
  parameter int unsigned PeKind = 0,
  parameter int unsigned PW     = 20,
  parameter int unsigned AW     = 16,
  parameter int unsigned ZW     = 4,
  parameter int unsigned Rows   = 4,
  parameter int unsigned RowW   = (Rows > 1) ? $clog2(Rows) : 1
) (
  input  logic              clk_i,
  input  logic              rst_ni,
  input  logic              zs_load_i,
  input  logic [ZW-1:0]     z_i,
  input  logic [15:0]       s_i,
  input  logic              valid_i,
  input  logic [PW-1:0]     p_i,
  input  logic [AW-1:0]     a_i,
  input  logic signed [8:0] sh_i,
  input  logic [31:0]       sx_i,
  input  logic              first_i,
  input  logic              last_i,
  input  logic [RowW-1:0]   row_i,
  output logic              y_valid_o,
  output logic [RowW-1:0]   y_row_o,
  output logic [31:0]       y_o
);
  // G = P - z*A needs one bit more than the wider of P and z*A.
  localparam int unsigned GW  = ((PW > AW + ZW + 1) ? PW : AW + ZW + 1) + 1;
  localparam int unsigned V1W = (PeKind == 2) ? 32 : GW;

  logic [ZW-1:0] z_q;
  logic [15:0]   s_q;

  // Stage registers; each carries the item's row, group flags and the operands later stages need.
  logic            s1_valid_q, s2_valid_q, s3_valid_q, s4_valid_q, s5_valid_q;
  logic            s1_first_q, s2_first_q, s3_first_q;
  logic            s1_last_q, s2_last_q, s3_last_q, s4_last_q;
  logic [RowW-1:0] s1_row_q, s2_row_q, s3_row_q, s4_row_q, s5_row_q;
  logic [31:0]     s1_sx_q, s2_sx_q, s3_sx_q, s4_sx_q;
  logic [15:0]     s1_s_q, s2_s_q;
  logic signed [8:0] s1_sh_q, s2_sh_q;
  logic [V1W-1:0]  s1_val_q, s1_val_d;
  logic [31:0]     s2_val_q, s2_val_d, s3_val_q, s3_val_d, s4_val_q, s4_val_d, s5_val_q, s5_val_d;
  logic [31:0]     acc_q [Rows];
  logic [31:0]     acc_prev, acc_sum;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      z_q <= '0;
      s_q <= '0;
    end else if (zs_load_i) begin
      z_q <= z_i;
      s_q <= s_i;
    end
  end

  if (PeKind == 2) begin : g_pass
    logic unused_zs;
    // The fp16 baseline's sums are already FP32 outputs: stages 1-3 only delay them.
    assign unused_zs = ^{z_q, s1_s_q, s2_s_q, s2_sh_q, a_i};
    assign s1_val_d  = V1W'(p_i);
    assign s2_val_d  = 32'(s1_val_q);
    assign s3_val_d  = s2_val_q;
  end else begin : g_dequant
    logic signed [GW-1:0] za;
    logic [31:0]          s32;
    assign za       = GW'($signed(a_i)) * $signed({1'b0, z_q});
    assign s1_val_d = V1W'(GW'($signed(p_i)) - za);
    mixpe_fp_int2f32 #(.IntW(GW)) u_i2f (.int_i(GW'(s1_val_q)), .y_o(s2_val_d));
    mixpe_fp_f16tof32 u_s32 (.h_i(s2_s_q), .y_o(s32));
    mixpe_fp_mul32 #(.AdjW(9)) u_mul (.a_i(s2_val_q), .b_i(s32), .adj_i(s2_sh_q), .y_o(s3_val_d));
  end

  assign acc_prev = acc_q[s3_row_q];
  mixpe_fp_add32 u_acc (.a_i(s3_first_q ? 32'd0 : acc_prev), .b_i(s3_val_q), .y_o(acc_sum));
  // The int8 reference scales its one int32 sum directly, without adding it to +0 first.
  assign s4_val_d = (PeKind == 1 && s3_first_q) ? s3_val_q : acc_sum;
  mixpe_fp_mul32 #(.AdjW(1)) u_scale (.a_i(s4_val_q), .b_i(s4_sx_q), .adj_i(1'b0), .y_o(s5_val_d));

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      s1_valid_q <= 1'b0;
      s2_valid_q <= 1'b0;
      s3_valid_q <= 1'b0;
      s4_valid_q <= 1'b0;
      s5_valid_q <= 1'b0;
    end else begin
      s1_valid_q <= valid_i;
      s2_valid_q <= s1_valid_q;
      s3_valid_q <= s2_valid_q;
      s4_valid_q <= s3_valid_q;
      s5_valid_q <= s4_valid_q & s4_last_q;
    end
  end

  // Datapath registers need no reset: the valid bits qualify them.
  always_ff @(posedge clk_i) begin
    s1_val_q   <= s1_val_d;
    s1_s_q     <= s_q;
    s1_sh_q    <= sh_i;
    s1_sx_q    <= sx_i;
    s1_first_q <= first_i;
    s1_last_q  <= last_i;
    s1_row_q   <= row_i;
    s2_val_q   <= s2_val_d;
    s2_s_q     <= s1_s_q;
    s2_sh_q    <= s1_sh_q;
    s2_sx_q    <= s1_sx_q;
    s2_first_q <= s1_first_q;
    s2_last_q  <= s1_last_q;
    s2_row_q   <= s1_row_q;
    s3_val_q   <= s3_val_d;
    s3_sx_q    <= s2_sx_q;
    s3_first_q <= s2_first_q;
    s3_last_q  <= s2_last_q;
    s3_row_q   <= s2_row_q;
    s4_val_q   <= s4_val_d;
    s4_sx_q    <= s3_sx_q;
    s4_last_q  <= s3_last_q;
    s4_row_q   <= s3_row_q;
    s5_val_q   <= s5_val_d;
    s5_row_q   <= s4_row_q;
    if (s3_valid_q) acc_q[s3_row_q] <= s4_val_d;
  end

  assign y_valid_o = s5_valid_q;
  assign y_row_o   = s5_row_q;
  assign y_o       = s5_val_q;
endmodule
