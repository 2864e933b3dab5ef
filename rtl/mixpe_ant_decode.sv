// ANT 4-bit weight decoder: a code of the selected type to a signed integer mantissa and a left shift (value = mant << shift).
//
// type_i: 0 = int (two's complement), 1 = flint, 2 = PoT (3 decodes as int). flint and PoT are sign-magnitude
// (bit 3 the sign). flint magnitudes m: 0xx is the integer m; 10x is (2 + x) << 1; 110 is 2 << 2; 111 is 2 << 3.
// PoT: 000 is 0, else 1 << (m - 1).
module mixpe_ant_decode (
  input  logic [1:0] type_i,
  input  logic [3:0] code_i,
  output logic [4:0] mant_o,
  output logic [2:0] shift_o
);
  logic [2:0] m;
  logic [1:0] mag;

  assign m = code_i[2:0];

  always_comb begin
    mag     = '0;
    shift_o = '0;
    mant_o  = {code_i[3], code_i};
    unique case (type_i)
      2'd1: begin
        if (!m[2]) begin
          mag = m[1:0];
        end else if (!m[1]) begin
          mag     = {1'b1, m[0]};
          shift_o = 3'd1;
        end else begin
          mag     = 2'd2;
          shift_o = {2'b01, m[0]};
        end
        mant_o = code_i[3] ? -{3'b000, mag} : {3'b000, mag};
      end
      2'd2: begin
        mag     = {1'b0, m != 3'd0};
        shift_o = (m == 3'd0) ? 3'd0 : m - 3'd1;
        mant_o  = code_i[3] ? -{3'b000, mag} : {3'b000, mag};
      end
      default: ;
    endcase
  end
endmodule
