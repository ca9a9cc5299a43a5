#!/usr/bin/env python3
"""Re-evaluates every point of every path that `modelab run ... --out DIR` exported, with numpy alone (float64), from
the exported vertices: θ(t) = (1−u)·V_from + u·V_to on the straight segment holding t, or the Bernstein combination
of the control points V_from … V_to on a Bézier 'curve' segment. Compares the losses and accuracies with
the ones ModeLab reported (docs/export-format.md).

    python3 docs/check_paths.py DIR [--tolerance 1e-4]

Exit status 0 when every vertex agrees within the tolerance, 1 otherwise.
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


def forward(spec, params, x):
    layers = spec["layers"]
    y = x if layers[0]["type"] == "conv" else x.reshape(len(x), -1)
    for i, layer in enumerate(layers, start=1):
        w = params[f"A{i}.w"]
        b = params.get(f"A{i}.b")
        last = i == len(layers)
        if layer["type"] == "conv":
            y = conv2d(y, w, layer["stride"], layer["padding"])
        else:
            y = y.reshape(len(y), -1) @ w
        if b is not None:
            y = y + b
        if not last:
            y = np.maximum(y, 0)
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
    for desc_file in sorted((run_dir / "paths").glob("*.json")):
        desc = json.loads(desc_file.read_text())
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
