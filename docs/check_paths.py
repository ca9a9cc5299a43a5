#!/usr/bin/env python3
"""Re-evaluates every point of every path that `modelab run ... --out DIR` exported, with numpy alone (float64), from
the exported vertices: θ(t) = (1−u)·V_from + u·V_to on the straight segment holding t, or the Bernstein combination
of the control points V_from … V_to on a Bézier 'curve' segment. Compares the losses and accuracies with
the ones ModeLab reported (docs/export-format.md).

    python3 docs/check_paths.py DIR [--tolerance 1e-4]

Exit status 0 when every vertex agrees within the tolerance, 1 otherwise.

BatchNorm networks: at every point strictly inside the path the BN statistics are recomputed layer by layer from the
first `evaluation.batchNorm.samples` training evaluation samples (run.json's config), as ModeLab does. Paths evaluated
with REPAIR, and Theorem 1 paths built between BN-folded endpoints, are reported and skipped.
"""
import json
import math
import struct
import sys
from pathlib import Path

import numpy as np


def load_safetensors(path):
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    header.pop("__metadata__", None)
    base = 8 + n
    out = {}
    for name, h in header.items():
        assert h["dtype"] == "F32", name
        s, e = h["data_offsets"]
        out[name] = np.frombuffer(raw[base + s : base + e], dtype="<f4").reshape(h["shape"])
    return out


def conv2d(x, w, stride, padding):
    """x [n, h, w, c], w [kh, kw, c, o] -> [n, ho, wo, o], TensorFlow's 'same'/'valid' conventions."""
    kh, kw = w.shape[:2]
    n, h, wd, c = x.shape
    if padding == "same":
        ho, wo = -(-h // stride), -(-wd // stride)
        ph = max((ho - 1) * stride + kh - h, 0)
        pw = max((wo - 1) * stride + kw - wd, 0)
        x = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
    # win: [n, ho, wo, c, kh, kw] -> contract with w over (kh, kw, c)
    return np.einsum("nhwcij,ijco->nhwo", win, w, optimize=True)


def max_pool(x, size, stride):
    win = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    return win.max(axis=(-2, -1))


BN_EPSILON = 1e-5


def forward(spec, params, x, bn_samples=None):
    """Logits. With bn_samples, every BN layer's statistics are first set to those of its input on these samples
    (population mean and variance, layer by layer), and `params` is updated in place."""
    layers = spec["layers"]
    y = x if layers[0]["type"] == "conv" else x.reshape(len(x), -1)
    z = None
    if bn_samples is not None:
        z = bn_samples if layers[0]["type"] == "conv" else bn_samples.reshape(len(bn_samples), -1)
    for i, layer in enumerate(layers, start=1):
        w = params[f"A{i}.w"]
        b = params.get(f"A{i}.b")
        last = i == len(layers)
        affine = (lambda a: conv2d(a, w, layer["stride"], layer["padding"])) if layer["type"] == "conv" else (lambda a: a.reshape(len(a), -1) @ w)
        y = affine(y)
        if b is not None:
            y = y + b
        if z is not None:
            z = affine(z) + (b if b is not None else 0)
        if not last and layer.get("batchNorm"):
            if z is not None:
                axes = tuple(range(z.ndim - 1))
                params[f"A{i}.bn.mean"] = z.mean(axis=axes)
                params[f"A{i}.bn.var"] = ((z - params[f"A{i}.bn.mean"]) ** 2).mean(axis=axes)
            scale = params[f"A{i}.bn.gamma"] / np.sqrt(params[f"A{i}.bn.var"] + BN_EPSILON)
            bn = lambda a: (a - params[f"A{i}.bn.mean"]) * scale + params[f"A{i}.bn.beta"]
            y = bn(y)
            if z is not None:
                z = bn(z)
        if not last:
            y = np.maximum(y, 0)
            if z is not None:
                z = np.maximum(z, 0)
                if layer["type"] == "conv" and layer.get("pool"):
                    z = max_pool(z, layer["pool"]["size"], layer["pool"]["stride"])
            if layer["type"] == "conv" and layer.get("pool"):
                y = max_pool(y, layer["pool"]["size"], layer["pool"]["stride"])
    return y


def metrics(logits, labels):
    if logits.shape[1] == 1:
        # One output: squared loss, and the rounded prediction as accuracy (the Theorem 4 counterexample).
        err = logits[:, 0] - labels
        return float((err**2).mean()), float((np.abs(err) < 0.5).mean())
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    loss = -logp[np.arange(len(labels)), labels].mean()
    acc = (logits.argmax(axis=1) == labels).mean()
    return float(loss), float(acc)


def main():
    args = sys.argv[1:]
    tol = 1e-4
    if "--tolerance" in args:
        k = args.index("--tolerance")
        tol = float(args[k + 1])
        del args[k : k + 2]
    run_dir = Path(args[0])
    data = load_safetensors(run_dir / "eval-data.safetensors")
    sets = {s: (data[f"{s}.x"].astype(np.float64), data[f"{s}.y"].astype(np.int64)) for s in ("train", "test")}
    worst = 0.0
    run_file = run_dir / "run.json"
    config = json.loads(run_file.read_text()).get("config", {}) if run_file.exists() else {}
    bn_cfg = (config.get("evaluation") or {}).get("batchNorm") or {}
    bn_recompute = bn_cfg.get("recompute", True)
    bn_samples = sets["train"][0][: bn_cfg.get("samples", 2000)]
    for desc_file in sorted((run_dir / "paths").glob("*.json")):
        desc = json.loads(desc_file.read_text())
        construction = desc.get("construction") or {}
        if construction.get("renormalize") == "repair" or construction.get("foldedBatchNorm"):
            why = "REPAIR at every point" if construction.get("renormalize") == "repair" else "built between BN-folded endpoints"
            print(f"path {desc['name']} ({desc['method']}): skipped ({why})")
            continue
        has_bn = any(l.get("batchNorm") for l in desc["architecture"]["layers"][:-1])
        tensors = load_safetensors(desc_file.with_suffix(".safetensors"))
        n_seg = len(desc["segments"])
        vertices = [
            {name[len(f"v{k}.") :]: v.astype(np.float64) for name, v in tensors.items() if name.startswith(f"v{k}.")}
            for k in range(desc["vertices"])
        ]
        print(f"path {desc['name']} ({desc['method']}): {desc['vertices']} vertices, {len(desc['points'])} points")
        for point in desc["points"]:
            t = point["t"]
            s = min(int(t * n_seg), n_seg - 1)
            u = t * n_seg - s
            seg = desc["segments"][s]
            if seg["kind"] == "curve":
                ctrl = vertices[seg["from"] : seg["to"] + 1]
                n = len(ctrl) - 1
                w = [math.comb(n, k) * u**k * (1 - u) ** (n - k) for k in range(n + 1)]
                params = {name: sum(wk * c[name] for wk, c in zip(w, ctrl)) for name in ctrl[0]}
            else:
                a, b = vertices[seg["from"]], vertices[seg["to"]]
                params = {name: (1 - u) * a[name] + u * b[name] for name in a}
            row = [f"  t={t:.4f} ({seg['kind']})"]
            recompute = bn_samples if has_bn and bn_recompute and 0 < t < 1 else None
            if recompute is not None:
                forward(desc["architecture"], params, recompute[:1], recompute)
            for split, (x, y) in sets.items():
                loss, acc = metrics(forward(desc["architecture"], params, x), y)
                ref = point[split]
                diff = max(abs(loss - ref["loss"]), abs(acc - ref["acc"]))
                worst = max(worst, diff)
                row.append(f"{split} loss {loss:.6f} (ModeLab {ref['loss']:.6f}) acc {acc:.4f} (ModeLab {ref['acc']:.4f})")
            print("  ".join(row))
    print(f"largest difference: {worst:.2e} (tolerance {tol:g})")
    return 0 if worst <= tol else 1


if __name__ == "__main__":
    sys.exit(main())
