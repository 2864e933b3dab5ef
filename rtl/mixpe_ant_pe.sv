// ANT PE: the 4-bit weight decoder in front of an INT8 multiplier by the decoded mantissa and a shifter; same stream and drain interface as mixpe_pe_mac.
module mixpe_ant_pe #(
  // |product| <= 128 * 64 = 2^13 (PoT); 32 bits hold a per-channel sum over K <= 262,143.
  parameter int unsigned AccW = 32
) (
  input  logic            clk_i,
  input  logic            rst_ni,
  // The tensor's type (0 = int, 1 = flint, 2 = PoT), static while a group streams.
  input  logic [1:0]      type_i,
  input  logic [7:0]      x_i,
  input  logic            valid_i,
  input  logic            last_i,
  input  logic [3:0]      q_i,
  output logic [7:0]      x_o,
  output logic            valid_o,
  output logic            last_o,
  output logic [3:0]      q_o,
  input  logic            dr_valid_i,
  input  logic [AccW-1:0] dr_data_i,
  output logic            dr_ready_o,
  output logic            dr_valid_o,
  output logic [AccW-1:0] dr_data_o,
  input  logic            dr_ready_i
);
  localparam int unsigned ProdW = 15;

  logic [4:0]       mant;
  logic [2:0]       shift;
  logic [ProdW-1:0] prod;

  mixpe_ant_decode u_decode (.type_i(type_i), .code_i(q_i), .mant_o(mant), .shift_o(shift));

  // An 8 x 5-bit multiplier, then the exponent as a left shift (wiring plus a 7-way mux).
  assign prod    = ProdW'($signed(x_i) * $signed(mant)) << shift;

  mixpe_pe_acc #(.XW(8), .QW(4), .AccW(AccW)) u_acc (.add_i(AccW'($signed(prod))), .*);
endmodule
