// FP16 baseline's per-column weight dequantizer: w16 = fp16((q - z) * s), one rounding.
module mixpe_fp16_wdeq #(
  parameter int unsigned WBits   = 4,
  parameter bit          WSigned = 1'b0
) (
  input  logic [WBits-1:0] q_i,
  input  logic [WBits-1:0] z_i,
  input  logic [15:0]      s_i,
  output logic [15:0]      w_o
);
  logic [WBits+1:0] qz;
  logic [31:0]      qz32, s32, w32;

  // The FP32 product of a (WBits+2)-bit integer and an FP16 scale is exact, so the FP16
  // conversion is the only rounding, as in dequantize_weight_fp16.
  assign qz = {{2{WSigned & q_i[WBits-1]}}, q_i} - {2'b00, z_i};
  mixpe_fp_int2f32 #(.IntW(WBits + 2)) u_qz (.int_i(qz), .y_o(qz32));
  mixpe_fp_f16tof32 u_s (.h_i(s_i), .y_o(s32));
  mixpe_fp_mul32 #(.AdjW(1)) u_mul (.a_i(qz32), .b_i(s32), .adj_i(1'b0), .y_o(w32));
  mixpe_fp_f32tof16 u_w16 (.a_i(w32), .h_o(w_o));
endmodule
