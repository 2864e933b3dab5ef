#!/usr/bin/env bash
# Yosys proofs: shift-and-add == multiplication for every input (SAT), and the MixPE PE == the multiplier PE
# cycle for cycle (equivalence by induction), likewise the two weight-stationary PE kinds, for INT4xINT8 and
# INT2xINT8, unsigned and signed codes; and the BitFusion fusion unit against `*` in W2A8 (also W2A2 and W8A8
# with --slow). Usage: rtl/formal/run.sh [--slow]
set -euo pipefail
rtl_dir=$(cd "$(dirname "$0")/.." && pwd)
for bits in 4 2; do
  for signed in 0 1; do
    yosys -q -p "
      read_verilog -sv -DSYNTHESIS $rtl_dir/mixpe_shift_add.sv $rtl_dir/formal/mixpe_shift_add_miter.sv
      chparam -set ActW 8 -set WBits $bits -set WSigned $signed mixpe_shift_add_miter
      hierarchy -top mixpe_shift_add_miter
      proc; flatten; opt
      sat -prove ok_o 1 -verify" > /dev/null
    echo "proved: shift_add(q, x) == q * x for all ${bits}-bit $([[ $signed == 1 ]] && echo signed || echo unsigned) codes x all INT8 x"

    # Both PEs have the same registers by name, so equiv_make pairs them and equiv_induct proves
    # every output and register equal in all reachable states. `hierarchy` must run before
    # `flatten`, or the PEs' submodules keep their default parameters.
    yosys -q -p "
      read_verilog -sv -DSYNTHESIS $rtl_dir/mixpe_shift_add.sv $rtl_dir/mixpe_drain_slot.sv $rtl_dir/mixpe_pe_acc.sv $rtl_dir/mixpe_pe.sv $rtl_dir/mixpe_pe_mac.sv
      chparam -set ActW 8 -set WBits $bits -set WSigned $signed -set GroupMax 128 mixpe_pe mixpe_pe_mac
      hierarchy -check
      proc; flatten; opt_clean
      async2sync
      equiv_make mixpe_pe mixpe_pe_mac equiv
      hierarchy -top equiv
      equiv_simple -seq 2
      equiv_induct
      equiv_status -assert" > /dev/null
    echo "proved: mixpe_pe == mixpe_pe_mac (INT${bits}xINT8, $([[ $signed == 1 ]] && echo signed || echo unsigned) codes), all outputs, every cycle"

    # The weight-stationary PE: shift-and-add kind (PeKind 0) == a copy set to the multiplier kind
    # (PeKind 1), same registers by name.
    yosys -q -p "
      read_verilog -sv -DSYNTHESIS $rtl_dir/mixpe_shift_add.sv $rtl_dir/mixpe_pe_ws.sv
      chparam -set ActW 8 -set WBits $bits -set WSigned $signed -set PW 19 mixpe_pe_ws
      copy mixpe_pe_ws mixpe_pe_ws_mul
      chparam -set PeKind 1 mixpe_pe_ws_mul
      hierarchy -check
      proc; flatten; opt_clean
      async2sync
      equiv_make mixpe_pe_ws mixpe_pe_ws_mul equiv
      hierarchy -top equiv
      equiv_simple -seq 2
      equiv_induct
      equiv_status -assert" > /dev/null
    echo "proved: mixpe_pe_ws shift-and-add == multiplier (INT${bits}xINT8, $([[ $signed == 1 ]] && echo signed || echo unsigned) codes), all outputs, every cycle"
  done
done

# BitFusion's fusion unit: the 16 shifted BitBrick products equal the sum of the cycle's `*` products, for every
# input. By default W2A8 (four 2x8 products, about 8 s); `--slow` adds W2A2 (sixteen 2x2, about 25 s) and W8A8
# (the fused 8x8 product, about 40 s). W4A8 did not finish in 200 s and rests on test_rtl (each product slot
# through all its operand pairs).
bf_modes=("2 8")
[[ ${1:-} == --slow ]] && bf_modes+=("2 2" "8 8")
for wa in "${bf_modes[@]}"; do
  read -r wb ab <<< "$wa"
  yosys -q -p "
    read_verilog -sv -DSYNTHESIS $rtl_dir/mixpe_bitbrick.sv $rtl_dir/mixpe_bitfusion_mul.sv $rtl_dir/formal/mixpe_bitfusion_miter.sv
    chparam -set WBits $wb -set ABits $ab mixpe_bitfusion_miter
    hierarchy -top mixpe_bitfusion_miter
    proc; flatten; opt
    sat -prove ok_o 1 -verify" > /dev/null
  echo "proved: BitFusion fusion unit W${wb}A${ab} == sum of its $(( (8 / wb) * (8 / ab) )) products, all inputs"
done
