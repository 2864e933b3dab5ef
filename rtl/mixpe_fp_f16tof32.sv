// IEEE binary16 to binary32, exact (subnormals normalized; NaNs quieted, payload kept).
module mixpe_fp_f16tof32 (
  input  logic [15:0] h_i,
  output logic [31:0] y_o
);
  logic [4:0] e;
  logic [9:0] f, f_norm;
  logic [3:0] lz;

  always_comb begin
    e = h_i[14:10];
    f = h_i[9:0];
    lz = 4'd10;
    for (int i = 0; i < 10; i++) begin
      if (f[i]) lz = 4'(9 - i);
    end
    // Drop the leading one: it becomes the hidden bit of the normalized binary32 value.
    f_norm = f << (lz + 4'd1);
    if (e == 5'h1F) begin
      y_o = (f == 10'd0) ? {h_i[15], 8'hFF, 23'd0} : {h_i[15], 8'hFF, 1'b1, f[8:0], 13'd0};
    end else if (e == 5'd0) begin
      y_o = (f == 10'd0) ? {h_i[15], 31'd0} : {h_i[15], 8'd112 - {4'd0, lz}, f_norm, 13'd0};
    end else begin
      y_o = {h_i[15], {3'd0, e} + 8'd112, f, 13'd0};
    end
  end
endmodule
