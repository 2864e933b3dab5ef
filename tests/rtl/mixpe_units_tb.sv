// Test top: every PE variant and the FP, alignment and dequantization units side by side, driven from GoogleTest.
module mixpe_units_tb (
  input  logic        clk_i,
  input  logic        rst_ni,
  // PEs: shared stream controls and operands of each width.
  input  logic        pe_valid_i,
  input  logic        pe_last_i,
  input  logic [7:0]  x8_i,
  input  logic [15:0] x16_i,
  input  logic [1:0]  q2_i,
  input  logic [2:0]  q3_i,
  input  logic [3:0]  q4_i,
  input  logic [7:0]  q8_i,
  input  logic [15:0] qh_i,
  output logic        pe_valid_o,
  output logic [18:0] p_u4_o,
  output logic [18:0] p_s4_o,
  output logic [17:0] p_u2_o,
  output logic [17:0] p_s2_o,
  output logic [18:0] p_s3_o,
  output logic [22:0] p_u8_o,
  output logic [26:0] p_a16_o,
  output logic [18:0] p_mac4_o,
  output logic [31:0] p_int8_o,
  output logic [31:0] p_fp16_o,
  // Baseline PEs of other designs on the same stream controls: BitFusion (bf_*) and ANT (x8_i, q4_i, ant_type_i).
  input  logic [1:0]  bf_wmode_i,
  input  logic [1:0]  bf_amode_i,
  input  logic [31:0] bf_x_i,
  input  logic [31:0] bf_q_i,
  output logic [31:0] p_bf_o,
  input  logic [1:0]  ant_type_i,
  output logic [31:0] p_ant_o,
  // A lone BitBrick, and an ANT decoder on (ant_type_i, q4_i).
  input  logic [1:0]  bb_a_i,
  input  logic        bb_as_i,
  input  logic [1:0]  bb_b_i,
  input  logic        bb_bs_i,
  output logic [4:0]  bb_p_o,
  output logic [4:0]  ant_mant_o,
  output logic [2:0]  ant_shift_o,
  // Combinational FP units.
  input  logic [31:0] add_a_i,
  input  logic [31:0] add_b_i,
  output logic [31:0] add_y_o,
  input  logic [31:0] mul_a_i,
  input  logic [31:0] mul_b_i,
  input  logic [8:0]  mul_adj_i,
  output logic [31:0] mul_y_o,
  input  logic [11:0] i2f12_i,
  output logic [31:0] i2f12_y_o,
  input  logic [39:0] i2f40_i,
  output logic [31:0] i2f40_y_o,
  input  logic [15:0] h2f_i,
  output logic [31:0] h2f_y_o,
  input  logic [31:0] f2h_i,
  output logic [15:0] f2h_y_o,
  input  logic [15:0] mul16_a_i,
  input  logic [15:0] mul16_b_i,
  output logic [31:0] mul16_y_o,
  // Block floating point.
  input  logic        bf16_i,
  input  logic [15:0] al_x_i,
  input  logic [8:0]  al_e_i,
  output logic [15:0] al_mant_o,
  input  logic        me_valid_i,
  input  logic        me_first_i,
  input  logic [15:0] me_x_i,
  output logic [8:0]  me_e_o,
  // Dequantization unit (mixpe kind, 4 rows), driven item by item.
  input  logic        dq_zs_load_i,
  input  logic [3:0]  dq_z_i,
  input  logic [15:0] dq_s_i,
  input  logic        dq_valid_i,
  input  logic [26:0] dq_p_i,
  input  logic [24:0] dq_a_i,
  input  logic [8:0]  dq_sh_i,
  input  logic [31:0] dq_sx_i,
  input  logic        dq_first_i,
  input  logic        dq_last_i,
  input  logic [1:0]  dq_row_i,
  output logic        dq_valid_o,
  output logic [1:0]  dq_row_o,
  output logic [31:0] dq_y_o
);
  logic [11:0] valids;
  assign pe_valid_o = &valids;

  // Each PE sits alone in its column: nothing above, an always-ready consumer below.
  `define MIXPE_TB_DRAIN(W) \
      .dr_valid_i(1'b0), .dr_data_i(W'(0)), .dr_ready_o(), .dr_ready_i(1'b1)

  mixpe_pe #(.ActW(8), .WBits(4), .WSigned(1'b0), .GroupMax(128)) u_u4 (
    .clk_i, .rst_ni, .x_i(x8_i), .valid_i(pe_valid_i), .last_i(pe_last_i), .q_i(q4_i),
    .x_o(), .valid_o(), .last_o(), .q_o(), `MIXPE_TB_DRAIN(19), .dr_valid_o(valids[0]), .dr_data_o(p_u4_o));
  mixpe_pe #(.ActW(8), .WBits(4), .WSigned(1'b1), .GroupMax(128)) u_s4 (
    .clk_i, .rst_ni, .x_i(x8_i), .valid_i(pe_valid_i), .last_i(pe_last_i), .q_i(q4_i),
    .x_o(), .valid_o(), .last_o(), .q_o(), `MIXPE_TB_DRAIN(19), .dr_valid_o(valids[1]), .dr_data_o(p_s4_o));
  mixpe_pe #(.ActW(8), .WBits(2), .WSigned(1'b0), .GroupMax(256)) u_u2 (
    .clk_i, .rst_ni, .x_i(x8_i), .valid_i(pe_valid_i), .last_i(pe_last_i), .q_i(q2_i),
    .x_o(), .valid_o(), .last_o(), .q_o(), `MIXPE_TB_DRAIN(18), .dr_valid_o(valids[2]), .dr_data_o(p_u2_o));
  mixpe_pe #(.ActW(8), .WBits(2), .WSigned(1'b1), .GroupMax(256)) u_s2 (
    .clk_i, .rst_ni, .x_i(x8_i), .valid_i(pe_valid_i), .last_i(pe_last_i), .q_i(q2_i),
    .x_o(), .valid_o(), .last_o(), .q_o(), `MIXPE_TB_DRAIN(18), .dr_valid_o(valids[3]), .dr_data_o(p_s2_o));
  mixpe_pe #(.ActW(8), .WBits(3), .WSigned(1'b1), .GroupMax(256)) u_s3 (
    .clk_i, .rst_ni, .x_i(x8_i), .valid_i(pe_valid_i), .last_i(pe_last_i), .q_i(q3_i),
    .x_o(), .valid_o(), .last_o(), .q_o(), `MIXPE_TB_DRAIN(19), .dr_valid_o(valids[4]), .dr_data_o(p_s3_o));
  mixpe_pe #(.ActW(8), .WBits(8), .WSigned(1'b0), .GroupMax(128)) u_u8 (
    .clk_i, .rst_ni, .x_i(x8_i), .valid_i(pe_valid_i), .last_i(pe_last_i), .q_i(q8_i),
    .x_o(), .valid_o(), .last_o(), .q_o(), `MIXPE_TB_DRAIN(23), .dr_valid_o(valids[5]), .dr_data_o(p_u8_o));
  mixpe_pe #(.ActW(16), .WBits(4), .WSigned(1'b0), .GroupMax(128)) u_a16 (
    .clk_i, .rst_ni, .x_i(x16_i), .valid_i(pe_valid_i), .last_i(pe_last_i), .q_i(q4_i),
    .x_o(), .valid_o(), .last_o(), .q_o(), `MIXPE_TB_DRAIN(27), .dr_valid_o(valids[6]), .dr_data_o(p_a16_o));
  mixpe_pe_mac #(.ActW(8), .WBits(4), .WSigned(1'b0), .GroupMax(128)) u_mac4 (
    .clk_i, .rst_ni, .x_i(x8_i), .valid_i(pe_valid_i), .last_i(pe_last_i), .q_i(q4_i),
    .x_o(), .valid_o(), .last_o(), .q_o(), `MIXPE_TB_DRAIN(19), .dr_valid_o(valids[7]), .dr_data_o(p_mac4_o));
  mixpe_pe_mac #(.ActW(8), .WBits(8), .WSigned(1'b1), .AccW(32)) u_int8 (
    .clk_i, .rst_ni, .x_i(x8_i), .valid_i(pe_valid_i), .last_i(pe_last_i), .q_i(q8_i),
    .x_o(), .valid_o(), .last_o(), .q_o(), `MIXPE_TB_DRAIN(32), .dr_valid_o(valids[8]), .dr_data_o(p_int8_o));
  mixpe_pe_fp16 u_fp16 (
    .clk_i, .rst_ni, .x_i(x16_i), .valid_i(pe_valid_i), .last_i(pe_last_i), .q_i(qh_i),
    .x_o(), .valid_o(), .last_o(), .q_o(), `MIXPE_TB_DRAIN(32), .dr_valid_o(valids[9]), .dr_data_o(p_fp16_o));
  mixpe_bitfusion_pe #(.AccW(32)) u_bf (
    .clk_i, .rst_ni, .wmode_i(bf_wmode_i), .amode_i(bf_amode_i), .x_i(bf_x_i), .valid_i(pe_valid_i),
    .last_i(pe_last_i), .q_i(bf_q_i), .x_o(), .valid_o(), .last_o(), .q_o(), `MIXPE_TB_DRAIN(32),
    .dr_valid_o(valids[10]), .dr_data_o(p_bf_o));
  mixpe_ant_pe #(.AccW(32)) u_ant (
    .clk_i, .rst_ni, .type_i(ant_type_i), .x_i(x8_i), .valid_i(pe_valid_i), .last_i(pe_last_i), .q_i(q4_i),
    .x_o(), .valid_o(), .last_o(), .q_o(), `MIXPE_TB_DRAIN(32), .dr_valid_o(valids[11]), .dr_data_o(p_ant_o));
  `undef MIXPE_TB_DRAIN

  mixpe_bitbrick u_brick (.a_i(bb_a_i), .a_signed_i(bb_as_i), .b_i(bb_b_i), .b_signed_i(bb_bs_i), .p_o(bb_p_o));
  mixpe_ant_decode u_ant_dec (.type_i(ant_type_i), .code_i(q4_i), .mant_o(ant_mant_o), .shift_o(ant_shift_o));

  mixpe_fp_add32 u_add (.a_i(add_a_i), .b_i(add_b_i), .y_o(add_y_o));
  mixpe_fp_mul32 #(.AdjW(9)) u_mul (.a_i(mul_a_i), .b_i(mul_b_i), .adj_i(mul_adj_i), .y_o(mul_y_o));
  mixpe_fp_int2f32 #(.IntW(12)) u_i2f12 (.int_i(i2f12_i), .y_o(i2f12_y_o));
  mixpe_fp_int2f32 #(.IntW(40)) u_i2f40 (.int_i(i2f40_i), .y_o(i2f40_y_o));
  mixpe_fp_f16tof32 u_h2f (.h_i(h2f_i), .y_o(h2f_y_o));
  mixpe_fp_f32tof16 u_f2h (.a_i(f2h_i), .h_o(f2h_y_o));
  mixpe_fp_mul16 u_mul16 (.a_i(mul16_a_i), .b_i(mul16_b_i), .y_o(mul16_y_o));

  mixpe_bfp_align u_align (.bf16_i(bf16_i), .x_i(al_x_i), .e_i(al_e_i), .mant_o(al_mant_o));
  mixpe_bfp_maxexp u_maxexp (
    .clk_i, .rst_ni, .bf16_i(bf16_i), .valid_i(me_valid_i), .first_i(me_first_i), .x_i(me_x_i), .e_max_o(me_e_o));

  mixpe_dequant #(.PeKind(0), .PW(27), .AW(25), .ZW(4), .Rows(4)) u_dequant (
    .clk_i, .rst_ni, .zs_load_i(dq_zs_load_i), .z_i(dq_z_i), .s_i(dq_s_i), .valid_i(dq_valid_i),
    .p_i(dq_p_i), .a_i(dq_a_i), .sh_i(dq_sh_i), .sx_i(dq_sx_i), .first_i(dq_first_i), .last_i(dq_last_i),
    .row_i(dq_row_i), .y_valid_o(dq_valid_o), .y_row_o(dq_row_o), .y_o(dq_y_o));

endmodule
