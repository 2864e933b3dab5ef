// The integer PEs' common tail: the group accumulator P, the registers that forward the operand
// stream to the next PE, and P's shadow slot on the column drain chain.
module mixpe_pe_acc #(
  parameter int unsigned XW   = 8,   // forwarded activation bits
  parameter int unsigned QW   = 4,   // forwarded weight bits
  parameter int unsigned AccW = 16
) (
  input  logic            clk_i,
  input  logic            rst_ni,
  input  logic [XW-1:0]   x_i,
  input  logic            valid_i,
  input  logic            last_i,
  input  logic [QW-1:0]   q_i,
  input  logic [AccW-1:0] add_i,  // this cycle's product (or products), sign-extended to AccW
  output logic [XW-1:0]   x_o,
  output logic            valid_o,
  output logic            last_o,
  output logic [QW-1:0]   q_o,
  input  logic            dr_valid_i,
  input  logic [AccW-1:0] dr_data_i,
  output logic            dr_ready_o,
  output logic            dr_valid_o,
  output logic [AccW-1:0] dr_data_o,
  input  logic            dr_ready_i
);
  logic [AccW-1:0] acc_q, acc_sum;

  assign acc_sum = acc_q + add_i;

  // The completed sum goes to the shadow slot while P restarts at 0: no bubble between groups.
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      acc_q   <= '0;
      x_o     <= '0;
      valid_o <= 1'b0;
      last_o  <= 1'b0;
      q_o     <= '0;
    end else begin
      if (valid_i) acc_q <= last_i ? '0 : acc_sum;
      x_o     <= x_i;
      valid_o <= valid_i;
      last_o  <= last_i;
      q_o     <= q_i;
    end
  end

  mixpe_drain_slot #(.Width(AccW)) u_slot (
    .clk_i       (clk_i),
    .rst_ni      (rst_ni),
    .load_i      (valid_i & last_i),
    .load_data_i (acc_sum),
    .up_valid_i  (dr_valid_i),
    .up_data_i   (dr_data_i),
    .up_ready_o  (dr_ready_o),
    .down_valid_o(dr_valid_o),
    .down_data_o (dr_data_o),
    .down_ready_i(dr_ready_i)
  );
endmodule
