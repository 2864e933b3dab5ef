#!/usr/bin/env bash
# Yosys proofs: shift-and-add == multiplication for every input (SAT), and the MixPE PE == the multiplier PE
# cycle for cycle (equivalence by induction), likewise the two weight-stationary PE kinds, for INT4xINT8 and
# INT2xINT8, unsigned and signed codes.
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
      read_verilog -sv -DSYNTHESIS $rtl_dir/mixpe_shift_add.sv $rtl_dir/mixpe_drain_slot.sv $rtl_dir/mixpe_pe.sv $rtl_dir/mixpe_pe_mac.sv
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
