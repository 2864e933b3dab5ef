// Formal miter: the fusion unit's BitBrick shift-add sum against the sum of `*` products in one width mode; ok_o must be constant 1.
module mixpe_bitfusion_miter #(
  parameter int unsigned WBits = 8,
  parameter int unsigned ABits = 8
) (
  input  logic [31:0] q_i,
  input  logic [31:0] x_i,
  output logic        ok_o
);
  localparam int unsigned Products = (8 / WBits) * (8 / ABits);
  localparam logic [1:0]  WMode    = WBits == 2 ? 2'd0 : WBits == 4 ? 2'd1 : 2'd2;
  localparam logic [1:0]  AMode    = ABits == 2 ? 2'd0 : ABits == 4 ? 2'd1 : 2'd2;

  logic [15:0]        sum;
  logic signed [15:0] spec;

  mixpe_bitfusion_mul u_dut (.wmode_i(WMode), .amode_i(AMode), .q_i(q_i), .x_i(x_i), .sum_o(sum));

  always_comb begin
    spec = '0;
    for (int p = 0; p < Products; p++)
      spec = spec + 16'($signed(q_i[p*WBits +: WBits]) * $signed(x_i[p*ABits +: ABits]));
  end
  assign ok_o = (sum == spec);
endmodule
