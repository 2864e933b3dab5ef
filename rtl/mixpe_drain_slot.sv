// One shadow register of a column's drain chain: loaded by its PE at a group end, else shifted downwards.
module mixpe_drain_slot #(
  parameter int unsigned Width = 32
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic             load_i,
  input  logic [Width-1:0] load_data_i,
  input  logic             up_valid_i,
  input  logic [Width-1:0] up_data_i,
  output logic             up_ready_o,
  output logic             down_valid_o,
  output logic [Width-1:0] down_data_o,
  input  logic             down_ready_i
);
  logic             valid_q;
  logic [Width-1:0] data_q;
  logic             move;

  // A slot accepts from above only when it is being emptied and its own PE is not loading:
  // the PE's load wins, so a group's values leave in row order once the bottom row is full.
  assign move       = valid_q & down_ready_i;
  assign up_ready_o = ~load_i & (move | ~valid_q);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid_q <= 1'b0;
      data_q  <= '0;
    end else if (load_i) begin
`ifndef SYNTHESIS
      // Overwriting an undrained value means the feeder broke the no-stall condition S(G+1)-S(G) >= R.
      if (valid_q && !move) $error("drain slot overrun: group spacing below the array height");
`endif
      valid_q <= 1'b1;
      data_q  <= load_data_i;
    end else if (up_valid_i && up_ready_o) begin
      valid_q <= 1'b1;
      data_q  <= up_data_i;
    end else if (move) begin
      valid_q <= 1'b0;
    end
  end

  assign down_valid_o = valid_q;
  assign down_data_o  = data_q;
endmodule
