// Multiplier-free product of a b-bit weight code and an activation: one shifted activation per set code bit.
module mixpe_shift_add #(
  parameter int unsigned ActW    = 8,
  parameter int unsigned WBits   = 4,
  parameter bit          WSigned = 1'b0,
  parameter int unsigned ProdW   = ActW + WBits
) (
  input  logic [ActW-1:0]  x_i,
  input  logic [WBits-1:0] q_i,
  output logic [ProdW-1:0] prod_o
);
  logic signed [ProdW-1:0] x_ext;
  logic signed [ProdW-1:0] sum;

  assign x_ext = ProdW'($signed(x_i));

  always_comb begin
    sum = '0;
    for (int i = 0; i < WBits; i++) begin
      // Shifts are wiring; a two's complement code's top bit weighs -2^(b-1), so it subtracts.
      if (q_i[i]) begin
        if (WSigned && i == WBits - 1) sum = sum - (x_ext <<< i);
        else                                 sum = sum + (x_ext <<< i);
      end
    end
  end
  assign prod_o = sum;
endmodule
