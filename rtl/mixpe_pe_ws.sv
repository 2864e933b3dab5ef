// Weight-stationary PE (docs/array.md "Weight-stationary dataflow"): a held weight code, psum_out = psum_in + q*x.
module mixpe_pe_ws #(
  // 0: MixPE shift-and-add, 1: multiplier (the INT8 x INT8 baseline).
  parameter int unsigned PeKind  = 0,
  parameter int unsigned ActW    = 8,
  parameter int unsigned WBits   = 4,
  parameter bit          WSigned = 1'b0,
  // Partial-sum width: a weight tile adds Rows <= g products, so the OS PE's group width suffices.
  parameter int unsigned PW      = ActW + WBits + 7
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic             w_load_i,
  input  logic [WBits-1:0] w_i,
  input  logic [ActW-1:0]  x_i,
  input  logic             valid_i,
  input  logic [PW-1:0]    psum_i,
  output logic [ActW-1:0]  x_o,
  output logic             valid_o,
  output logic [PW-1:0]    psum_o
);
  localparam int unsigned ProdW = ActW + WBits;

  logic [WBits-1:0] w_q;
  logic [ProdW-1:0] prod;

  if (PeKind == 0) begin : g_shift_add
    mixpe_shift_add #(
      .ActW   (ActW),
      .WBits  (WBits),
      .WSigned(WSigned),
      .ProdW  (ProdW)
    ) u_shift_add (
      .x_i   (x_i),
      .q_i   (w_q),
      .prod_o(prod)
    );
  end else begin : g_mul
    logic signed [WBits:0] q_ext;
    assign q_ext = {WSigned & w_q[WBits-1], w_q};
    assign prod  = ProdW'($signed(x_i) * q_ext);
  end

  // The weight register is written between two weight tiles' token waves; the feeder's schedule
  // guarantees no token of the old tile is still to pass (the array checks this in simulation).
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      w_q     <= '0;
      x_o     <= '0;
      valid_o <= 1'b0;
      psum_o  <= '0;
    end else begin
      if (w_load_i) w_q <= w_i;
      x_o     <= x_i;
      valid_o <= valid_i;
      if (valid_i) psum_o <= psum_i + PW'($signed(prod));
    end
  end
endmodule
