# The mixpe Python module against the mixpe CLI it wraps: same reports, same GEMM bits.
# Run by ctest (python_module) with PYTHONPATH = the module's build directory and MIXPE_CLI = the CLI.
import json
import os
import subprocess
import tempfile
import unittest

import numpy as np

import mixpe

CLI = os.environ.get("MIXPE_CLI", "")


def run_cli_json(args):
    """Runs `mixpe ARGS --json TMP` and returns the JSON it wrote."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "out.json")
        subprocess.run([CLI, *args, "--json", path], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(path) as f:
            return json.load(f)


def workload_args(model, phase, batch, seq, executor):
    return ["--model", model, "--phase", phase, "--batch", str(batch), "--seq", str(seq), "--executor", executor]


@unittest.skipUnless(CLI, "set MIXPE_CLI to the built mixpe CLI (ctest does)")
class ReportsMatchTheCli(unittest.TestCase):
    def check_simulate(self, model, hw, phase, batch, seq, overrides=()):
        got = mixpe.simulate(model=model, hw=hw, phase=phase, batch=batch, seq=seq, executor="analytic", overrides=list(overrides))
        params = [a for o in overrides for a in ("-p", o)]
        want = run_cli_json(["simulate", "-q", "--hw", hw, *params, *workload_args(model, phase, batch, seq, "analytic")])
        self.assertEqual(got, want)
        self.assertGreater(got["total_cycles"], 0)

    def test_simulate_llm_prefill_and_decode(self):
        self.check_simulate("llama-2-7b", "mixpe_w4a8_64x64", "prefill", 1, 64)
        self.check_simulate("tiny", "default", "decode", 2, 32, overrides=["array.rows=32", "dram.preset=hbm2"])

    def test_simulate_neural_operator(self):
        self.check_simulate("fno-darcy", "mixpe_w4a16_32x32", "prefill", 2, 64)

    def test_compare(self):
        designs = ["fp16_32x28", "mixpe_w4a8_64x64"]
        got = mixpe.compare(model="tiny", hw=designs, phase="prefill", batch=1, seq=16)
        want = run_cli_json(["compare", "--hw", ",".join(designs), *workload_args("tiny", "prefill", 1, 16, "analytic")])
        self.assertEqual(got, want)
        self.assertEqual(got["baseline"], "fp16_32x28")
        self.assertEqual(got["table"][0]["norm_time_all"], 1.0)

    def test_cycle_executor_in_a_child_process(self):
        got = mixpe.simulate(model="tiny", hw="default", phase="decode", batch=1, seq=16, executor="cycle")
        want = run_cli_json(["simulate", "-q", "--hw", "default", *workload_args("tiny", "decode", 1, 16, "cycle")])
        self.assertEqual(got["executor"], "cycle")
        self.assertEqual(got["total_cycles"], want["total_cycles"])
        self.assertEqual(got, want)
        designs = ["fp16_32x28", "mixpe_w4a8_64x64"]
        got = mixpe.compare(model="tiny", hw=designs, phase="decode", batch=1, seq=8, executor="cycle")
        want = run_cli_json(["compare", "--hw", ",".join(designs), *workload_args("tiny", "decode", 1, 8, "cycle")])
        self.assertEqual([r["executor"] for r in got["reports"]], ["cycle", "cycle"])
        self.assertEqual(got, want)


class Errors(unittest.TestCase):
    def test_unknown_model_names_it(self):
        with self.assertRaisesRegex(ValueError, "no-such-model"):
            mixpe.simulate(model="no-such-model")

    def test_unknown_hw_names_it(self):
        with self.assertRaisesRegex(ValueError, "no_such_hw"):
            mixpe.simulate(model="tiny", hw="no_such_hw")
        with self.assertRaisesRegex(ValueError, "no_such_hw"):
            mixpe.hw_show("no_such_hw")

    def test_bad_override_phase_and_numerics(self):
        with self.assertRaisesRegex(ValueError, "array.rows"):
            mixpe.hw_show("default", ["array.rows=0"])
        with self.assertRaisesRegex(ValueError, "sideways"):
            mixpe.simulate(model="tiny", phase="sideways")
        x = np.zeros((2, 128), np.float32)
        with self.assertRaisesRegex(ValueError, "fp8"):
            mixpe.mpgemm(x, np.ones((4, 128), np.float32), numerics="fp8")
        with self.assertRaisesRegex(ValueError, "group"):
            mixpe.quantize_tensor(np.ones((4, 100), np.float32), 4, 128)


class HwShow(unittest.TestCase):
    def test_keys_and_overrides(self):
        base = mixpe.hw_show("mixpe_w4a8_64x64")
        self.assertEqual(base["name"], "mixpe_w4a8_64x64")
        self.assertEqual((base["array.rows"], base["array.cols"]), (64, 64))
        self.assertEqual(base["array.pe_type"], "mixpe")
        self.assertIsInstance(base["clock_mhz"], float)
        changed = mixpe.hw_show("mixpe_w4a8_64x64", ["array.rows=32", "dram.preset=hbm2"])
        self.assertEqual(changed["array.rows"], 32)
        self.assertEqual(changed["dram.preset"], "hbm2")
        self.assertIn("-GRows=32", changed["verilator_parameters"])


def random_problem(m, n, k, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, k)).astype(np.float32), (rng.standard_normal((n, k)) / np.sqrt(k)).astype(np.float32)


def dequantize(q):
    g = q["group_size"]
    scales = np.repeat(q["scales"].astype(np.float64), g, axis=1)
    zeros = np.repeat(q["zeros"].astype(np.float64), g, axis=1)
    return scales * (q["codes"].astype(np.float64) - zeros)


def sqnr_db(ref, y):
    return 10 * np.log10(np.sum(ref**2) / np.sum((ref - y) ** 2))


@unittest.skipUnless(CLI, "set MIXPE_CLI to the built mixpe CLI (ctest does)")
class GemmQuantizeAndIsoAreaMatchTheCli(unittest.TestCase):
    def test_gemm_equals_the_cli_json(self):
        out = subprocess.run([CLI, "gemm", "--m", "8", "--n", "64", "--k", "256", "--wbits", "3", "--group", "64", "--seed", "7",
                              "--json"], check=True, capture_output=True, text=True).stdout
        self.assertEqual(mixpe.gemm(m=8, n=64, k=256, wbits=3, group=64, seed=7), json.loads(out))
        with self.assertRaises(ValueError):
            mixpe.gemm(k=100, group=64)

    def test_quantize_writes_the_file_the_cli_writes(self):
        model = os.path.join(os.path.dirname(__file__), "..", "..", "zoo", "llama-kjv", "model.safetensors")
        with tempfile.TemporaryDirectory() as tmp:
            mine, theirs = os.path.join(tmp, "py.mixpe"), os.path.join(tmp, "cli.mixpe")
            r = mixpe.quantize(model, mine, wbits=4, group=32)
            subprocess.run([CLI, "quantize", model, "-o", theirs, "--wbits", "4", "--group", "32"], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            with open(mine, "rb") as a, open(theirs, "rb") as b:
                self.assertEqual(a.read(), b.read())
            self.assertEqual(r["file_bytes"], os.path.getsize(mine))
            self.assertGreater(r["quantized_count"], 0)
            self.assertTrue(all(t["sqnr_db"] > 10 for t in r["tensors"] if t["quantized"]))
            with self.assertRaisesRegex(RuntimeError, "nowhere.safetensors"):
                mixpe.quantize(os.path.join(tmp, "nowhere.safetensors"), os.path.join(tmp, "x.mixpe"))
            self.assertFalse(os.path.exists(os.path.join(tmp, "x.mixpe")))

    def test_compare_iso_area_equals_the_cli(self):
        args = workload_args("tiny", "prefill", 1, 64, "analytic")
        theirs = run_cli_json(["compare", *args, "--hw", "int8_32x32,mixpe_w4a8_64x64", "--iso-area", "int8_32x32"])
        mine = mixpe.compare(model="tiny", hw=["int8_32x32", "mixpe_w4a8_64x64"], iso_area="int8_32x32")
        self.assertEqual(mine, theirs)
        self.assertEqual(mine["table"][1]["rows"], 64)
        self.assertLess(mine["table"][1]["cols"], 64)


class QuantizeAndGemm(unittest.TestCase):
    def test_quantize_tensor_shapes_dtypes_and_error(self):
        _, w = random_problem(1, 48, 256, 1)
        for sym in (False, True):
            q = mixpe.quantize_tensor(w, 4, 64, sym)
            self.assertEqual(q["codes"].shape, (48, 256))
            self.assertEqual(q["codes"].dtype, np.int16)
            self.assertEqual(q["scales"].shape, (48, 4))
            self.assertEqual(q["scales"].dtype, np.float32)
            self.assertEqual(q["zeros"].dtype, np.uint8)
            self.assertEqual((q["bits"], q["group_size"], q["symmetric"]), (4, 64, sym))
            lo, hi = (-8, 7) if sym else (0, 15)
            self.assertGreaterEqual(q["codes"].min(), lo)
            self.assertLessEqual(q["codes"].max(), hi)
            # Round to nearest: every error within half a step, plus the symmetric clamp's one step.
            step = np.repeat(np.abs(q["scales"]).astype(np.float64), 64, axis=1)
            bound = step * (1.0 + 2.0**-8) if sym else step * 0.5 + 1e-12
            self.assertTrue(np.all(np.abs(dequantize(q) - w) <= bound))
        self.assertEqual(mixpe.quantize_tensor(w, 4, -1)["scales"].shape, (48, 1))

    def test_fast_kernels_equal_the_oracles_bit_for_bit(self):
        x, w = random_problem(5, 40, 256, 2)
        q = mixpe.quantize_tensor(w, 4, 128)
        q8 = mixpe.quantize_tensor(w, 8, -1, sym=True)
        for numerics in ("mixpe-int8", "mixpe-fp16", "mixpe-bf16", "fp16", "int8"):
            weights = q8 if numerics == "int8" else q
            fast = mixpe.mpgemm(x, weights, numerics)
            ref = mixpe.mpgemm(x, weights, numerics, reference=True)
            self.assertEqual(fast.shape, (5, 40))
            self.assertEqual(fast.dtype, np.float32)
            np.testing.assert_array_equal(fast.view(np.uint32), ref.view(np.uint32), err_msg=numerics)
            # Float weights are quantized as `mixpe gemm` does (W4 g128 asym; W8 per-channel sym for int8).
            np.testing.assert_array_equal(mixpe.mpgemm(x, w, numerics, wbits=4, group=128).view(np.uint32),
                                          fast.view(np.uint32), err_msg=numerics)
            # Against float64 on the quantized weights: only the activations' quantization remains.
            exact = x.astype(np.float64) @ dequantize(weights).T
            self.assertGreater(sqnr_db(exact, fast), 30.0 if numerics in ("mixpe-int8", "int8") else 40.0, numerics)

    def test_bitfusion_and_ant_fast_kernels_equal_their_oracles(self):
        x, w = random_problem(5, 40, 256, 4)
        q4 = mixpe.quantize_tensor(w, 4, -1, sym=True)
        fast = mixpe.mpgemm(x, q4, "bitfusion")
        np.testing.assert_array_equal(fast.view(np.uint32), mixpe.mpgemm(x, q4, "bitfusion", reference=True).view(np.uint32))
        # Float weights: W4 symmetric per channel, the fusion unit's format.
        np.testing.assert_array_equal(mixpe.mpgemm(x, w, "bitfusion", wbits=4).view(np.uint32), fast.view(np.uint32))
        # BitFusion's fused products are exact: its GEMM is the INT8 PE's on the same codes.
        np.testing.assert_array_equal(mixpe.mpgemm(x, q4, "int8").view(np.uint32), fast.view(np.uint32))
        ant = mixpe.mpgemm(x, w, "ant")
        np.testing.assert_array_equal(ant.view(np.uint32), mixpe.mpgemm(x, w, "ant", reference=True).view(np.uint32))
        self.assertGreater(sqnr_db(x.astype(np.float64) @ w.astype(np.float64).T, ant), 10.0)
        with self.assertRaisesRegex(ValueError, "ant"):
            mixpe.mpgemm(x, q4, "ant")
        with self.assertRaisesRegex(ValueError, "(?i)bitfusion"):
            mixpe.mpgemm(x, mixpe.quantize_tensor(w, 3, -1, sym=True), "bitfusion")

    def test_fp16_path_equals_its_definition(self):
        # docs/numerics.md: w16 = fp16((q - z) s); acc += fp32(x16) * fp32(w16) in ascending k, FP32 sums.
        x, w = random_problem(3, 20, 128, 3)
        q = mixpe.quantize_tensor(w, 3, 32)
        w16 = dequantize(q).astype(np.float16).astype(np.float32)
        x16 = x.astype(np.float16).astype(np.float32)
        acc = np.zeros((3, 20), np.float32)
        for j in range(128):
            acc = acc + np.outer(x16[:, j], w16[:, j])
        np.testing.assert_array_equal(mixpe.mpgemm(x, q, "fp16").view(np.uint32), acc.view(np.uint32))

    def test_non_contiguous_and_float64_inputs_are_converted(self):
        x, w = random_problem(4, 16, 128, 4)
        y = mixpe.mpgemm(x, w, "mixpe-int8")
        np.testing.assert_array_equal(mixpe.mpgemm(np.asfortranarray(x.astype(np.float64)), w, "mixpe-int8"), y)


if __name__ == "__main__":
    unittest.main()
