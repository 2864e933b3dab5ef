// BitFusion PE: one fusion unit (16 BitBricks) adding all of a cycle's products into one accumulator; same stream and drain interface as mixpe_pe_mac.
module mixpe_bitfusion_pe #(
  // |sum per cycle| <= 2^14; 32 bits hold a per-channel sum over K <= 131,071 in W8A8.
  parameter int unsigned AccW = 32
) (
  input  logic            clk_i,
  input  logic            rst_ni,
  // Operand widths (0 = 2-bit, 1 = 4-bit, 2 = 8-bit), static while a group streams.
  input  logic [1:0]      wmode_i,
  input  logic [1:0]      amode_i,
  // (8/w)(8/a) products per cycle: weights q_i[p*w +: w], activations x_i[p*a +: a].
  input  logic [31:0]     x_i,
  input  logic            valid_i,
  input  logic            last_i,
  input  logic [31:0]     q_i,
  output logic [31:0]     x_o,
  output logic            valid_o,
  output logic            last_o,
  output logic [31:0]     q_o,
  input  logic            dr_valid_i,
  input  logic [AccW-1:0] dr_data_i,
  output logic            dr_ready_o,
  output logic            dr_valid_o,
  output logic [AccW-1:0] dr_data_o,
  input  logic            dr_ready_i
);
  logic [15:0]     sum;

  mixpe_bitfusion_mul u_fusion (.wmode_i(wmode_i), .amode_i(amode_i), .q_i(q_i), .x_i(x_i), .sum_o(sum));

  mixpe_pe_acc #(.XW(32), .QW(32), .AccW(AccW)) u_acc (.add_i(AccW'($signed(sum))), .*);
endmodule
