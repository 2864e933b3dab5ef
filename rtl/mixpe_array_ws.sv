// Weight-stationary Rows x Cols systolic array (docs/array.md "Weight-stationary dataflow"): K on rows, channels on
// columns, weights held per PE and loaded through 16-bit-per-column lanes, tokens streaming past, psums moving down.
module mixpe_array_ws #(
  parameter int unsigned Rows     = 4,
  parameter int unsigned Cols     = 4,
  // 0: MixPE shift-and-add, 1: INT8 x INT8 MAC baseline (the fp16 baseline has no WS array).
  parameter int unsigned PeKind   = 0,
  // MixPE only: FP16/BF16 activations pre-aligned at the row edges instead of INT8 codes.
  parameter bit          ActFp    = 1'b0,
  parameter int unsigned WBits    = 4,
  parameter bit          WSigned  = 1'b0,
  // Largest group size (for the INT8 baseline, the largest K); must be at least Rows.
  parameter int unsigned GroupMax = 128,
  parameter int unsigned XW       = ActFp ? 16 : 8,
  parameter int unsigned GCW      = $clog2(GroupMax + 1),
  parameter int unsigned RowW     = (Rows > 1) ? $clog2(Rows) : 1,
  // Weight-load bits per column per cycle (array.ws_load_bits): b = LoadBits / WBits load lanes per
  // column, each writing LaneRows = ceil(Rows / b) rows.
  parameter int unsigned LoadBits = 16,
  parameter int unsigned Lanes    = LoadBits / WBits,
  parameter int unsigned LaneRows = (Rows + Lanes - 1) / Lanes
) (
  input  logic                        clk_i,
  input  logic                        rst_ni,
  // Tokens M (1..Rows), weight tiles per group g / Rows, groups per job K / g.
  input  logic [RowW:0]               cfg_tokens_i,
  input  logic [GCW-1:0]              cfg_group_tiles_i,
  input  logic [15:0]                 cfg_num_groups_i,
  input  logic                        cfg_bf16_i,
  // Token entry (feeder cycle S_t + m): x[m][kt Rows + r] for row r, the shared exponent E of the
  // token's group (FP activations) and its FP32 scale sx (INT8 activations).
  input  logic                        tok_valid_i,
  input  logic [Rows*XW-1:0]          x_i,
  input  logic [8:0]                  e_i,
  input  logic [31:0]                 sx_i,
  // Weight load, lane i (feeder cycle S_t + r - 1 for its row r): the codes of that row for every
  // column at ld_q_i[(i*Cols + c)*WBits +: WBits]. Each lane writes its rows in order.
  input  logic [Lanes-1:0]            ld_valid_i,
  input  logic [Lanes*Cols*WBits-1:0] ld_q_i,
  // The weight tile's zero points and FP16 scales (feeder cycle S_t - 1).
  input  logic                        zs_valid_i,
  input  logic [Cols*WBits-1:0]       z_i,
  input  logic [Cols*16-1:0]          s_i,
  output logic [Cols-1:0]             y_valid_o,
  output logic [Cols*RowW-1:0]        y_row_o,
  output logic [Cols*32-1:0]          y_o
);
  localparam int unsigned PW     = (PeKind == 0) ? XW + WBits + $clog2(GroupMax) : 32;
  localparam int unsigned AW     = XW + $clog2(GroupMax) + 1;
  localparam int unsigned LW     = (LaneRows > 1) ? $clog2(LaneRows) : 1;
  localparam int unsigned NLanes = (Rows + LaneRows - 1) / LaneRows;  // lanes that own rows
  // Left-edge item: {token m, first/last tile of group, first/last group, E, sx, A}.
  localparam int unsigned EdgeW  = RowW + 4 + 9 + 32 + AW;
  // Bottom item: {token m, first/last tile of group, first/last group, group A, sh, sx}.
  localparam int unsigned BotW   = RowW + 4 + AW + 9 + 32;
  localparam int unsigned ZsW    = 1 + WBits + 16;

  // Token counters: m within the weight tile, weight tile within the group, group within the job.
  logic [RowW-1:0] m_q;
  logic [GCW-1:0]  kt_q;
  logic [15:0]     grp_q;
  logic            m_last, ftile, ltile, fgrp, lgrp;

  assign m_last = ({1'b0, m_q} == cfg_tokens_i - 1'b1);
  assign ftile  = (kt_q == '0);
  assign ltile  = (kt_q == cfg_group_tiles_i - 1'b1);
  assign fgrp   = (grp_q == 16'd0);
  assign lgrp   = (grp_q == cfg_num_groups_i - 16'd1);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      m_q   <= '0;
      kt_q  <= '0;
      grp_q <= '0;
    end else if (tok_valid_i) begin
      if (m_last) begin
        m_q <= '0;
        if (ltile) begin
          kt_q  <= '0;
          grp_q <= lgrp ? 16'd0 : grp_q + 16'd1;
        end else begin
          kt_q <= kt_q + 1'b1;
        end
      end else begin
        m_q <= m_q + 1'b1;
      end
    end
  end

  // Grid wiring, flattened for Yosys: horizontal index r*(Cols+1)+c, vertical index r*Cols+c.
  logic [Rows*(Cols+1)*XW-1:0] act;
  logic [Rows*(Cols+1)-1:0]    act_valid;
  logic [(Rows+1)*Cols*PW-1:0] psum;
  logic [Rows:0]               edge_v;
  logic [(Rows+1)*EdgeW-1:0]   edge_d;

  logic [8:0]  e_in;
  logic [31:0] sx_in;
  logic        unused_in;
  // Aligned activations carry no token scale; INT8 activations no exponent.
  assign e_in      = ActFp ? e_i : 9'd0;
  assign sx_in     = ActFp ? 32'h3F80_0000 : sx_i;
  assign unused_in = ^{cfg_bf16_i & ActFp, e_i & {9{~ActFp}}, sx_i & {32{ActFp}}};

  assign edge_v[0]          = tok_valid_i;
  assign edge_d[0 +: EdgeW] = {m_q, ftile, ltile, fgrp, lgrp, e_in, sx_in, AW'(0)};

  // Weight-load lanes: each lane's row counter, then one register per column (column c sees a
  // load c cycles after the feeder, in step with the token wave moving right).
  logic [Cols*NLanes-1:0]      ldc_v;
  logic [Cols*NLanes*LW-1:0]   ldc_row;
  logic [Cols*NLanes*WBits-1:0] ldc_q;

  for (genvar i = 0; i < NLanes; i++) begin : g_lane
    localparam int unsigned Len = (Rows - i * LaneRows < LaneRows) ? Rows - i * LaneRows : LaneRows;
    logic [LW-1:0] row_q;
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni)            row_q <= '0;
      else if (ld_valid_i[i]) row_q <= (32'(row_q) == Len - 1) ? '0 : row_q + 1'b1;
    end
    assign ldc_v[i]             = ld_valid_i[i];
    assign ldc_row[i*LW +: LW]  = row_q;
  end

  for (genvar c = 0; c < Cols; c++) begin : g_ldcol
    logic [NLanes*WBits-1:0] codes;
    for (genvar i = 0; i < NLanes; i++) begin : g_lane
      assign codes[i*WBits +: WBits] = ld_q_i[(i*Cols + c)*WBits +: WBits];
    end
    mixpe_delay #(.Width(NLanes*WBits), .Depth(c)) u_skew (
      .clk_i (clk_i),
      .rst_ni(rst_ni),
      .d_i   (codes),
      .q_o   (ldc_q[c*NLanes*WBits +: NLanes*WBits])
    );
    if (c > 0) begin : g_ctl
      logic [NLanes-1:0]    v_q;
      logic [NLanes*LW-1:0] row_q;
      always_ff @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) begin
          v_q   <= '0;
          row_q <= '0;
        end else begin
          v_q   <= ldc_v[(c-1)*NLanes +: NLanes];
          row_q <= ldc_row[(c-1)*NLanes*LW +: NLanes*LW];
        end
      end
      assign ldc_v[c*NLanes +: NLanes]         = v_q;
      assign ldc_row[c*NLanes*LW +: NLanes*LW] = row_q;
    end
  end

  for (genvar r = 0; r < Rows; r++) begin : g_row
    localparam int unsigned Lane = r / LaneRows;
    localparam int unsigned LRow = r % LaneRows;
    logic [XW-1:0]     sk_x, xa;
    logic [RowW-1:0]   it_m;
    logic              it_ft, it_lt, it_fg, it_lg;
    logic [8:0]        it_e;
    logic [31:0]       it_sx;
    logic [AW-1:0]     it_a, a_next;
    logic              ev_q;
    logic [EdgeW-1:0]  ed_q;

    // Row r sees token entries r cycles after row 0, with the left-edge item moving down.
    mixpe_delay #(.Width(XW), .Depth(r)) u_skew (
      .clk_i (clk_i),
      .rst_ni(rst_ni),
      .d_i   (x_i[r*XW +: XW]),
      .q_o   (sk_x)
    );
    assign {it_m, it_ft, it_lt, it_fg, it_lg, it_e, it_sx, it_a} = edge_d[r*EdgeW +: EdgeW];

    if (PeKind == 0 && ActFp) begin : g_align
      mixpe_bfp_align u_align (.bf16_i(cfg_bf16_i), .x_i(sk_x), .e_i(it_e), .mant_o(xa));
    end else begin : g_int
      assign xa = sk_x;
    end

    // The left-edge adder chain: A of the weight tile's K-slice, one row per cycle.
    if (PeKind == 0) begin : g_asum
      assign a_next = it_a + AW'($signed(xa));
    end else begin : g_no_asum
      // The baseline has no zero point, so the dequantization unit needs no activation sum.
      logic unused_a;
      assign unused_a = ^it_a;
      assign a_next   = '0;
    end

    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        ev_q <= 1'b0;
        ed_q <= '0;
      end else begin
        ev_q <= edge_v[r];
        ed_q <= {it_m, it_ft, it_lt, it_fg, it_lg, it_e, it_sx, a_next};
      end
    end
    assign edge_v[r+1]                   = ev_q;
    assign edge_d[(r+1)*EdgeW +: EdgeW]  = ed_q;
    assign act[(r*(Cols+1))*XW +: XW]    = xa;
    assign act_valid[r*(Cols+1)]         = edge_v[r];

    for (genvar c = 0; c < Cols; c++) begin : g_col
      localparam int unsigned H  = r * (Cols + 1) + c;
      localparam int unsigned V  = r * Cols + c;
      localparam int unsigned VD = (r + 1) * Cols + c;
      localparam int unsigned LI = c * NLanes + Lane;
      logic w_load;
      assign w_load = ldc_v[LI] & (32'(ldc_row[LI*LW +: LW]) == LRow);

      mixpe_pe_ws #(
        .PeKind (PeKind),
        .ActW   (XW),
        .WBits  (WBits),
        .WSigned(WSigned),
        .PW     (PW)
      ) u_pe (
        .clk_i  (clk_i),
        .rst_ni (rst_ni),
        .w_load_i(w_load),
        .w_i    (ldc_q[LI*WBits +: WBits]),
        .x_i    (act[H*XW +: XW]),
        .valid_i(act_valid[H]),
        .psum_i (psum[V*PW +: PW]),
        .x_o    (act[(H+1)*XW +: XW]),
        .valid_o(act_valid[H+1]),
        .psum_o (psum[VD*PW +: PW])
      );

`ifndef SYNTHESIS
      // The feeder's schedule: each token of weight tile t meets tile t's weight, i.e. the row's
      // register has taken exactly t+1 tiles. Columns repeat column 0's timing c cycles later.
      if (c == 0) begin : g_chk
        int unsigned loads_q, tiles_q;
        always_ff @(posedge clk_i or negedge rst_ni) begin
          if (!rst_ni) begin
            loads_q <= 0;
            tiles_q <= 0;
          end else begin
            if (w_load) loads_q <= loads_q + 1;
            if (edge_v[r]) begin
              if (loads_q != tiles_q + 1)
                $error("row %0d: token %0d of weight tile %0d meets weight tile %0d", r, it_m, tiles_q, loads_q - 1);
              if ({1'b0, it_m} == cfg_tokens_i - 1'b1) tiles_q <= tiles_q + 1;
            end
          end
        end
      end
`endif
    end
  end

  // Bottom left: the group accumulator of A over the group's weight tiles, per token.
  logic [BotW-1:0]   item0;
  logic [Cols-1:0]   bot_v;
  logic [Cols*BotW-1:0] bot_d;
  logic [RowW-1:0]   b_m;
  logic              b_ft, b_lt, b_fg, b_lg;
  logic [8:0]        b_e;
  logic [31:0]       b_sx;
  logic [AW-1:0]     b_a, a_full;
  logic signed [8:0] b_sh;
  logic [AW-1:0]     aacc_q [Rows];

  assign {b_m, b_ft, b_lt, b_fg, b_lg, b_e, b_sx, b_a} = edge_d[Rows*EdgeW +: EdgeW];
  assign a_full = (b_ft ? AW'(0) : aacc_q[b_m]) + b_a;
  // The aligned values' shared exponent joins the scale in the dequantization step.
  assign b_sh   = ActFp ? $signed(b_e) - 9'sd13 : 9'sd0;
  assign item0  = {b_m, b_ft, b_lt, b_fg, b_lg, a_full, b_sh, b_sx};
  always_ff @(posedge clk_i) begin
    if (edge_v[Rows]) aacc_q[b_m] <= a_full;
  end

  for (genvar c = 0; c < Cols; c++) begin : g_col
    logic [ZsW-1:0]    zs;
    logic [RowW-1:0]   it_m;
    logic              it_ft, it_lt, it_fg, it_lg;
    logic [AW-1:0]     it_a;
    logic [8:0]        it_sh;
    logic [31:0]       it_sx;
    logic [PW-1:0]     p_bot, p_grp;
    logic              p_valid;
    logic [PW-1:0]     pacc_q [Rows];

    assign psum[c*PW +: PW] = '0;

    // A weight tile's z and s reach the dequantization unit the cycle before its first token's
    // sum: presented on S_t - 1, used from e = S_t + Rows + c.
    mixpe_delay #(.Width(ZsW), .Depth(Rows + c)) u_zs (
      .clk_i (clk_i),
      .rst_ni(rst_ni),
      .d_i   ({zs_valid_i, z_i[c*WBits +: WBits], s_i[c*16 +: 16]}),
      .q_o   (zs)
    );

    // The bottom items move right one column per cycle, in step with the psums leaving the columns.
    if (c == 0) begin : g_first
      assign bot_v[0]        = edge_v[Rows];
      assign bot_d[0 +: BotW] = item0;
    end else begin : g_next
      logic            v_q;
      logic [BotW-1:0] d_q;
      always_ff @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) begin
          v_q <= 1'b0;
          d_q <= '0;
        end else begin
          v_q <= bot_v[c-1];
          d_q <= bot_d[(c-1)*BotW +: BotW];
        end
      end
      assign bot_v[c]              = v_q;
      assign bot_d[c*BotW +: BotW] = d_q;
    end
    assign {it_m, it_ft, it_lt, it_fg, it_lg, it_a, it_sh, it_sx} = bot_d[c*BotW +: BotW];

    // Column c's group accumulator: the integer group sum per token over the group's weight tiles.
    assign p_bot   = psum[(Rows*Cols + c)*PW +: PW];
    assign p_valid = act_valid[(Rows-1)*(Cols+1) + c + 1];
    assign p_grp   = (it_ft ? PW'(0) : pacc_q[it_m]) + p_bot;
    always_ff @(posedge clk_i) begin
      if (bot_v[c]) pacc_q[it_m] <= p_grp;
    end

`ifndef SYNTHESIS
    always_ff @(posedge clk_i) begin
      if (p_valid != bot_v[c]) $error("column %0d: partial sum and left-edge item out of step", c);
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
      .valid_i  (bot_v[c] & it_lt),
      .p_i      (p_grp),
      .a_i      (it_a),
      .sh_i     (it_sh),
      .sx_i     (it_sx),
      .first_i  (it_fg),
      .last_i   (it_lg),
      .row_i    (it_m),
      .y_valid_o(y_valid_o[c]),
      .y_row_o  (y_row_o[c*RowW +: RowW]),
      .y_o      (y_o[c*32 +: 32])
    );
  end

  // The right-most column's forwarded activations, the last column's bottom item and the lanes
  // that own no rows have no consumer.
  logic unused_wires;
  always_comb begin
    unused_wires = ^{unused_in, bot_d[(Cols-1)*BotW +: BotW], bot_v[Cols-1]};
    for (int r = 0; r < Rows; r++) begin
      unused_wires = unused_wires ^ (^act[(r*(Cols+1)+Cols)*XW +: XW]) ^ act_valid[r*(Cols+1)+Cols];
    end
    for (int i = NLanes; i < Lanes; i++) begin
      unused_wires = unused_wires ^ ld_valid_i[i] ^ (^ld_q_i[i*Cols*WBits +: Cols*WBits]);
    end
  end
endmodule
