// Output-stationary Rows x Cols systolic array (docs/array.md): feeder, skew, PE grid, drain chains, dequantization.
module mixpe_array #(
  parameter int unsigned Rows     = 4,
  parameter int unsigned Cols     = 4,
  // 0: MixPE shift-and-add, 1: INT8 x INT8 MAC baseline, 2: FP16 dequantize-then-MAC baseline.
  parameter int unsigned PeKind   = 0,
  // MixPE only: FP16/BF16 activations pre-aligned at the row edges instead of INT8 codes.
  parameter bit          ActFp    = 1'b0,
  parameter int unsigned WBits    = 4,
  parameter bit          WSigned  = 1'b0,
  // Largest group size (for the baselines, the largest K); the group size itself is a runtime input.
  parameter int unsigned GroupMax = 128,
  parameter int unsigned XW       = (PeKind == 2 || ActFp) ? 16 : 8,
  parameter int unsigned GCW      = $clog2(GroupMax + 1),
  parameter int unsigned RowW     = (Rows > 1) ? $clog2(Rows) : 1
) (
  input  logic                   clk_i,
  input  logic                   rst_ni,
  input  logic [GCW-1:0]         cfg_group_size_i,
  input  logic [15:0]            cfg_num_groups_i,
  input  logic                   cfg_bf16_i,
  input  logic                   in_valid_i,
  output logic                   in_ready_o,
  input  logic [Rows*XW-1:0]     x_i,
  input  logic [Rows*9-1:0]      e_i,
  input  logic [Rows*32-1:0]     sx_i,
  input  logic [Cols*WBits-1:0]  q_i,
  input  logic [Cols*WBits-1:0]  z_i,
  input  logic [Cols*16-1:0]     s_i,
  output logic [Cols-1:0]        y_valid_o,
  output logic [Cols*RowW-1:0]   y_row_o,
  output logic [Cols*32-1:0]     y_o
);
  localparam int unsigned QW    = (PeKind == 2) ? 16 : WBits;
  localparam int unsigned PW    = (PeKind == 0) ? XW + WBits + $clog2(GroupMax) : 32;
  localparam int unsigned AW    = XW + $clog2(GroupMax) + 1;
  localparam int unsigned ItemW = RowW + 2 + AW + 9 + 32;
  localparam int unsigned SkW   = 4 + XW + 9 + 32;
  localparam int unsigned ZsW   = 1 + WBits + 16;

  // Feeder: counts elements and groups, and after each group holds the input for Rows - g
  // cycles when Rows > g, so that groups start p = max(g, Rows) cycles apart.
  logic [GCW-1:0] k_q;
  logic [15:0]    grp_q;
  logic [RowW:0]  stall_q;
  logic           fire, glast, tfirst, tlast;

  assign in_ready_o = (stall_q == '0);
  assign fire   = in_valid_i & in_ready_o;
  assign glast  = (k_q == cfg_group_size_i - 1'b1);
  assign tfirst = (grp_q == 16'd0);
  assign tlast  = (grp_q == cfg_num_groups_i - 16'd1);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      k_q     <= '0;
      grp_q   <= '0;
      stall_q <= '0;
    end else if (fire) begin
      if (glast) begin
        k_q     <= '0;
        grp_q   <= tlast ? 16'd0 : grp_q + 16'd1;
        stall_q <= (Rows > 32'(cfg_group_size_i)) ? (RowW+1)'(Rows - 32'(cfg_group_size_i)) : '0;
      end else begin
        k_q <= k_q + 1'b1;
      end
    end else if (stall_q != '0) begin
      stall_q <= stall_q - 1'b1;
    end
  end

  // Operands as PE(0,0) sees them: directly, or after the fp16 baseline's weight dequantization register.
  logic                  st_valid, st_glast, st_tfirst, st_tlast;
  logic [Rows*XW-1:0]    st_x;
  logic [Rows*9-1:0]     st_e;
  logic [Rows*32-1:0]    st_sx;
  logic [Cols*QW-1:0]    st_q;

  if (PeKind == 2) begin : g_wdeq
    logic [Cols*16-1:0] w16;
    for (genvar c = 0; c < Cols; c++) begin : g_col
      mixpe_fp16_wdeq #(.WBits(WBits), .WSigned(WSigned)) u_wdeq (
        .q_i(q_i[c*WBits +: WBits]),
        .z_i(z_i[c*WBits +: WBits]),
        .s_i(s_i[c*16 +: 16]),
        .w_o(w16[c*16 +: 16])
      );
    end
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        st_valid  <= 1'b0;
        st_glast  <= 1'b0;
        st_tfirst <= 1'b0;
        st_tlast  <= 1'b0;
        st_x      <= '0;
        st_e      <= '0;
        st_sx     <= '0;
        st_q      <= '0;
      end else begin
        st_valid  <= fire;
        st_glast  <= glast;
        st_tfirst <= tfirst;
        st_tlast  <= tlast;
        st_x      <= x_i;
        st_e      <= e_i;
        st_sx     <= sx_i;
        st_q      <= w16;
      end
    end
  end else begin : g_direct
    assign st_valid  = fire;
    assign st_glast  = glast;
    assign st_tfirst = tfirst;
    assign st_tlast  = tlast;
    assign st_x      = x_i;
    assign st_e      = e_i;
    assign st_sx     = sx_i;
    assign st_q      = q_i;
  end

  // Grid wiring, flattened for Yosys: horizontal index r*(Cols+1)+c, vertical index r*Cols+c.
  logic [Rows*(Cols+1)*XW-1:0] act;
  logic [Rows*(Cols+1)-1:0]    act_valid, act_last;
  logic [(Rows+1)*Cols*QW-1:0] wq;
  logic [(Rows+1)*Cols-1:0]    drv, rdy;
  logic [(Rows+1)*Cols*PW-1:0] drd;
  logic [Rows:0]               edge_v, edge_rdy;
  logic [(Rows+1)*ItemW-1:0]   edge_d;

  assign edge_v[0]           = 1'b0;
  assign edge_d[0 +: ItemW]  = '0;
  assign edge_rdy[Rows]      = 1'b1;

  for (genvar r = 0; r < Rows; r++) begin : g_row
    logic [SkW-1:0] sk;
    logic           sk_valid, sk_glast, sk_tfirst, sk_tlast;
    logic [XW-1:0]  sk_x;
    logic [8:0]     sk_e;
    logic [31:0]    sk_sx;

    // Row r sees element k on cycle S + k + r.
    mixpe_delay #(.Width(SkW), .Depth(r)) u_skew (
      .clk_i (clk_i),
      .rst_ni(rst_ni),
      .d_i   ({st_valid, st_glast, st_tfirst, st_tlast, st_x[r*XW +: XW], st_e[r*9 +: 9], st_sx[r*32 +: 32]}),
      .q_o   (sk)
    );
    assign {sk_valid, sk_glast, sk_tfirst, sk_tlast, sk_x, sk_e, sk_sx} = sk;

    mixpe_row_edge #(
      .PeKind(PeKind),
      .ActFp (ActFp),
      .XW    (XW),
      .AW    (AW),
      .RowW  (RowW),
      .Row   (r),
      .ItemW (ItemW)
    ) u_edge (
      .clk_i     (clk_i),
      .rst_ni    (rst_ni),
      .bf16_i    (cfg_bf16_i),
      .valid_i   (sk_valid),
      .last_i    (sk_glast),
      .tfirst_i  (sk_tfirst),
      .tlast_i   (sk_tlast),
      .x_i       (sk_x),
      .e_i       (sk_e),
      .sx_i      (sk_sx),
      .x_o       (act[(r*(Cols+1))*XW +: XW]),
      .dr_valid_i(edge_v[r]),
      .dr_data_i (edge_d[r*ItemW +: ItemW]),
      .dr_ready_o(edge_rdy[r]),
      .dr_valid_o(edge_v[r+1]),
      .dr_data_o (edge_d[(r+1)*ItemW +: ItemW]),
      .dr_ready_i(edge_rdy[r+1])
    );
    assign act_valid[r*(Cols+1)] = sk_valid;
    assign act_last[r*(Cols+1)]  = sk_glast;

    for (genvar c = 0; c < Cols; c++) begin : g_col
      localparam int unsigned H  = r * (Cols + 1) + c;
      localparam int unsigned V  = r * Cols + c;
      localparam int unsigned VD = (r + 1) * Cols + c;
      if (PeKind == 0) begin : g_mixpe
        mixpe_pe #(
          .ActW    (XW),
          .WBits   (WBits),
          .WSigned (WSigned),
          .GroupMax(GroupMax),
          .AccW    (PW)
        ) u_pe (
          .clk_i     (clk_i),
          .rst_ni    (rst_ni),
          .x_i       (act[H*XW +: XW]),
          .valid_i   (act_valid[H]),
          .last_i    (act_last[H]),
          .q_i       (wq[V*QW +: QW]),
          .x_o       (act[(H+1)*XW +: XW]),
          .valid_o   (act_valid[H+1]),
          .last_o    (act_last[H+1]),
          .q_o       (wq[VD*QW +: QW]),
          .dr_valid_i(drv[V]),
          .dr_data_i (drd[V*PW +: PW]),
          .dr_ready_o(rdy[V]),
          .dr_valid_o(drv[VD]),
          .dr_data_o (drd[VD*PW +: PW]),
          .dr_ready_i(rdy[VD])
        );
      end else if (PeKind == 1) begin : g_int8
        mixpe_pe_mac #(
          .ActW    (XW),
          .WBits   (WBits),
          .WSigned (WSigned),
          .GroupMax(GroupMax),
          .AccW    (PW)
        ) u_pe (
          .clk_i     (clk_i),
          .rst_ni    (rst_ni),
          .x_i       (act[H*XW +: XW]),
          .valid_i   (act_valid[H]),
          .last_i    (act_last[H]),
          .q_i       (wq[V*QW +: QW]),
          .x_o       (act[(H+1)*XW +: XW]),
          .valid_o   (act_valid[H+1]),
          .last_o    (act_last[H+1]),
          .q_o       (wq[VD*QW +: QW]),
          .dr_valid_i(drv[V]),
          .dr_data_i (drd[V*PW +: PW]),
          .dr_ready_o(rdy[V]),
          .dr_valid_o(drv[VD]),
          .dr_data_o (drd[VD*PW +: PW]),
          .dr_ready_i(rdy[VD])
        );
      end else begin : g_fp16
        mixpe_pe_fp16 u_pe (
          .clk_i     (clk_i),
          .rst_ni    (rst_ni),
          .x_i       (act[H*XW +: XW]),
          .valid_i   (act_valid[H]),
          .last_i    (act_last[H]),
          .q_i       (wq[V*QW +: QW]),
          .x_o       (act[(H+1)*XW +: XW]),
          .valid_o   (act_valid[H+1]),
          .last_o    (act_last[H+1]),
          .q_o       (wq[VD*QW +: QW]),
          .dr_valid_i(drv[V]),
          .dr_data_i (drd[V*PW +: PW]),
          .dr_ready_o(rdy[V]),
          .dr_valid_o(drv[VD]),
          .dr_data_o (drd[VD*PW +: PW]),
          .dr_ready_i(rdy[VD])
        );
      end
    end
  end

  logic [Cols-1:0]       bot_v;
  logic [Cols*ItemW-1:0] bot_d;

  for (genvar c = 0; c < Cols; c++) begin : g_col
    logic [ZsW-1:0]    zs;
    logic [RowW-1:0]   it_row;
    logic              it_first, it_last;
    logic [AW-1:0]     it_a;
    logic [8:0]        it_sh;
    logic [31:0]       it_sx;

    // Column c sees element k on cycle S + k + c.
    mixpe_delay #(.Width(QW), .Depth(c)) u_skew (
      .clk_i (clk_i),
      .rst_ni(rst_ni),
      .d_i   (st_q[c*QW +: QW]),
      .q_o   (wq[c*QW +: QW])
    );
    assign drv[c]            = 1'b0;
    assign drd[c*PW +: PW]   = '0;
    assign rdy[Rows*Cols+c]  = 1'b1;

    // The group's z and s reach the dequantization unit the cycle before its first drained value.
    mixpe_delay #(.Width(ZsW), .Depth(Rows - 1 + c)) u_zs (
      .clk_i (clk_i),
      .rst_ni(rst_ni),
      .d_i   ({fire & glast & (PeKind != 2), z_i[c*WBits +: WBits], s_i[c*16 +: 16]}),
      .q_o   (zs)
    );

    // Row-edge items travel along the bottom one column per cycle, in step with the drains.
    if (c == 0) begin : g_first
      assign bot_v[0]         = edge_v[Rows];
      assign bot_d[0 +: ItemW] = edge_d[Rows*ItemW +: ItemW];
    end else begin : g_next
      logic             v_q;
      logic [ItemW-1:0] d_q;
      always_ff @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) begin
          v_q <= 1'b0;
          d_q <= '0;
        end else begin
          v_q <= bot_v[c-1];
          d_q <= bot_d[(c-1)*ItemW +: ItemW];
        end
      end
      assign bot_v[c]                = v_q;
      assign bot_d[c*ItemW +: ItemW] = d_q;
    end
    assign {it_row, it_first, it_last, it_a, it_sh, it_sx} = bot_d[c*ItemW +: ItemW];

`ifndef SYNTHESIS
    always_ff @(posedge clk_i) begin
      if (drv[Rows*Cols+c] != bot_v[c]) $error("column %0d: drained sum and row-edge item out of step", c);
    end
`endif

    mixpe_dequant #(
      .PeKind(PeKind),
      .PW    (PW),
      .AW    (AW),
      .ZW    (WBits),
      .Rows  (Rows),
      .RowW  (RowW)
    ) u_dequant (
      .clk_i    (clk_i),
      .rst_ni   (rst_ni),
      .zs_load_i(zs[ZsW-1]),
      .z_i      (zs[16 +: WBits]),
      .s_i      (zs[15:0]),
      .valid_i  (drv[Rows*Cols+c]),
      .p_i      (drd[(Rows*Cols+c)*PW +: PW]),
      .a_i      (it_a),
      .sh_i     (it_sh),
      .sx_i     (it_sx),
      .first_i  (it_first),
      .last_i   (it_last),
      .row_i    (it_row),
      .y_valid_o(y_valid_o[c]),
      .y_row_o  (y_row_o[c*RowW +: RowW]),
      .y_o      (y_o[c*32 +: 32])
    );
  end

  // The right-most column's forwarded activations, the bottom row's forwarded weights and the
  // top slots' ready signals have no consumer.
  logic unused_wires;
  always_comb begin
    unused_wires = ^{edge_rdy[0], rdy[Cols-1:0], wq[Rows*Cols*QW +: Cols*QW], bot_v[Cols-1],
                     bot_d[(Cols-1)*ItemW +: ItemW]};
    for (int r = 0; r < Rows; r++) begin
      unused_wires = unused_wires ^ (^act[(r*(Cols+1)+Cols)*XW +: XW]) ^ act_valid[r*(Cols+1)+Cols]
                   ^ act_last[r*(Cols+1)+Cols];
    end
  end
endmodule
