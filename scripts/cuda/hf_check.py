#!/usr/bin/env python3
"""The transformers side of scripts/cuda/check.sh (needs torch, transformers, safetensors).

  hf_check.py make WORK [--small]
      Random-weight checkpoints with the shapes of SmolLM2-135M (LlamaConfig) and Gemma 3
      270M (Gemma3TextConfig): WORK/NAME/ holds config.json, model.safetensors (bfloat16,
      as released checkpoints are) and tokenizer.json (the tiny test tokenizer padded with
      <unused_N> pieces to the model's vocabulary). Beside it: NAME.ids.json (a 600-token
      prompt, longer than Gemma's 512-position sliding window) and NAME.gen.json with
      NAME.soft.f32 (a prompt of tokens, 6 soft-token rows that are no token's embedding,
      and tokens). --small: 2 layers and a 4,096-token vocabulary, for a dry run on a CPU.
  hf_check.py check WORK
      Compares cuda_check's dumps (WORK/NAME.dump/) and greedy tokens (WORK/NAME.gen.out.json)
      with transformers in float32 on the GPU, times transformers as the baseline for
      cuda_check's figures (WORK/NAME.bench.json), prints PASS/FAIL lines and a table, and
      writes WORK/summary.json. Exit status 1 when a check failed.
"""
import json
import os
import statistics
import sys
import time

import torch
from transformers import AutoModelForCausalLM, Gemma3TextConfig, LlamaConfig

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
TOKENIZER = os.path.join(SRC, "agent/llm/testdata/tiny-llama/tokenizer.json")
PROMPT_TOKENS = 600
NEW_TOKENS = 48
# Tolerances for float32 through 18-30 layers on two devices (the CPU test's are 2e-5 and
# 5e-4 against 6-digit fixtures).
HIDDEN_REL_TOL = 1e-4
LOGIT_ABS_TOL = 1e-3


def configs():
    llama = LlamaConfig(
        vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
        num_attention_heads=9, num_key_value_heads=3, head_dim=64, max_position_embeddings=8192,
        rms_norm_eps=1e-5, rope_parameters={"rope_type": "default", "rope_theta": 100000.0},
        tie_word_embeddings=True, bos_token_id=0, eos_token_id=1)
    gemma = Gemma3TextConfig(
        vocab_size=262144, hidden_size=640, intermediate_size=2048, num_hidden_layers=18,
        num_attention_heads=4, num_key_value_heads=1, head_dim=256,
        max_position_embeddings=32768, rms_norm_eps=1e-6, sliding_window=512,
        query_pre_attn_scalar=256,
        layer_types=(["sliding_attention"] * 5 + ["full_attention"]) * 3,
        rope_parameters={
            "full_attention": {"rope_type": "default", "rope_theta": 1000000.0},
            "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}},
        hidden_activation="gelu_pytorch_tanh", bos_token_id=0, eos_token_id=1, pad_token_id=0)
    return {"smollm2-135m-rand": llama, "gemma3-270m-rand": gemma}


def device():
    return "cuda" if torch.cuda.is_available() else "cpu"


def padded_tokenizer(path, vocab_size):
    with open(TOKENIZER) as f:
        tok = json.load(f)
    vocab = tok["model"]["vocab"]
    for i in range(max(vocab.values()) + 1, vocab_size):
        vocab[f"<unused_{i}>"] = i
    with open(path, "w") as f:
        json.dump(tok, f)


def make(work, small):
    os.makedirs(work, exist_ok=True)
    for name, config in configs().items():
        if small:
            config.num_hidden_layers = 2
            config.vocab_size = 4096
            if hasattr(config, "layer_types") and config.model_type == "gemma3_text":
                config.layer_types = ["sliding_attention", "full_attention"]
        torch.manual_seed(0)
        with torch.device(device()):
            model = AutoModelForCausalLM.from_config(config, dtype=torch.float32).eval()
            # Norm weights start as ones (Llama) or zeros (Gemma's 1 + w): perturb them so
            # that they matter.
            with torch.no_grad():
                for p in model.parameters():
                    if p.dim() == 1:
                        p.add_(0.1 * torch.randn_like(p))
        out = os.path.join(work, name)
        model.to(torch.bfloat16).save_pretrained(out)
        padded_tokenizer(os.path.join(out, "tokenizer.json"), config.vocab_size)

        g = torch.Generator().manual_seed(1)
        ids = torch.randint(2, config.vocab_size, (PROMPT_TOKENS,), generator=g).tolist()
        with open(os.path.join(work, name + ".ids.json"), "w") as f:
            json.dump({"ids": ids}, f)
        # Soft tokens: embeddings of random tokens, shrunk and moved off the token lattice
        # by noise of a third of their scale.
        head = torch.randint(2, config.vocab_size, (8,), generator=g)
        tail = torch.randint(2, config.vocab_size, (10,), generator=g)
        with torch.no_grad():
            emb = model.float().get_input_embeddings()(
                torch.randint(2, config.vocab_size, (6,), generator=g).to(device())).cpu()
        rms = emb.pow(2).mean().sqrt()
        soft = 0.8 * emb + 0.3 * rms * torch.randn(emb.shape, generator=g)
        soft.float().numpy().tofile(os.path.join(work, name + ".soft.f32"))
        with open(os.path.join(work, name + ".gen.json"), "w") as f:
            json.dump({"head": head.tolist(), "soft": name + ".soft.f32", "soft_rows": 6,
                       "tail": tail.tolist(), "max_new_tokens": NEW_TOKENS}, f)
        print(f"made {out}: {sum(p.numel() for p in model.parameters()) / 1e6:.1f} M parameters",
              flush=True)


def read_f32(path, shape):
    return torch.from_file(path, size=int(torch.Size(shape).numel()),
                           dtype=torch.float32).reshape(shape)


failures = 0


def report(ok, what, detail):
    global failures
    print(("PASS " if ok else "FAIL ") + what + ": " + detail, flush=True)
    failures += 0 if ok else 1


def greedy(model, embeds, n):
    """Greedy decode from input embeddings [T, d] as the runtime does it: logits of the last
    position to the host, argmax there, one token at a time through the KV cache."""
    dev = embeds.device
    out = model(inputs_embeds=embeds[None], use_cache=True, logits_to_keep=1)
    tokens = []
    for i in range(n):
        row = out.logits[0, -1].float().cpu()
        tokens.append(int(row.argmax()))
        if i + 1 == n:
            break
        out = model(input_ids=torch.tensor([[tokens[-1]]], device=dev),
                    past_key_values=out.past_key_values, use_cache=True)
    return tokens


def bench_ids(t):
    return [100 + (k * 7919) % 1000 for k in range(t)]  # as cuda_check and model_bench


def sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def bench(model):
    """Medians, timed like cuda_check: prefill = forward until the last logits are on the
    host; decode = tokens / time from there on (128 tokens after a 64-token prompt)."""
    dev = model.device
    res = {"prefill": []}
    for t in (64, 512):
        ids = torch.tensor([bench_ids(t)], device=dev)
        times = []
        for k in range(13):
            sync()
            t0 = time.perf_counter()
            out = model(ids, use_cache=True, logits_to_keep=1)
            out.logits[0, -1].float().cpu()
            if k >= 3:
                times.append(time.perf_counter() - t0)
        res["prefill"].append({"tokens": t, "tok_s": t / statistics.median(times)})
    ids = torch.tensor([bench_ids(64)], device=dev)
    rates = []
    for k in range(6):
        sync()
        out = model(ids, use_cache=True, logits_to_keep=1)
        row = out.logits[0, -1].float().cpu()
        t1 = time.perf_counter()
        for i in range(128):
            nxt = int(row.argmax())
            if i + 1 == 128:
                break
            out = model(input_ids=torch.tensor([[nxt]], device=dev),
                        past_key_values=out.past_key_values, use_cache=True)
            row = out.logits[0, -1].float().cpu()
        if k > 0:
            rates.append(128 / (time.perf_counter() - t1))
    res["decode_tok_s"] = statistics.median(rates)
    return res


def check(work):
    torch.set_float32_matmul_precision("highest")  # no TF32: compare float32 with float32
    dev = device()
    summary = {"device": torch.cuda.get_device_name() if dev == "cuda" else "cpu",
               "torch": torch.__version__, "transformers": __import__("transformers").__version__,
               "models": {}}
    for name in configs():
        path = os.path.join(work, name)
        if not os.path.isdir(path):
            continue
        entry = summary["models"][name] = {}
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).to(dev).eval()
        with open(os.path.join(work, name + ".ids.json")) as f:
            ids = json.load(f)["ids"]
        with torch.no_grad():
            out = model(torch.tensor([ids], device=dev), output_hidden_states=True,
                        logits_to_keep=1)
        hf_hidden = torch.stack([h[0].float().cpu() for h in out.hidden_states])
        hf_logits = out.logits[0, -1].float().cpu()
        dump = os.path.join(work, name + ".dump")
        with open(os.path.join(dump, "meta.json")) as f:
            meta = json.load(f)
        shape = (meta["num_layers"] + 1, meta["tokens"], meta["hidden_size"])
        for tag, label in (("cpu", "cpu"), ("dev", "runtime on " + dev)):
            hidden = read_f32(os.path.join(dump, tag + ".hidden.f32"), shape)
            logits = read_f32(os.path.join(dump, tag + ".logits.f32"), (meta["vocab"],))
            rel = ((hidden - hf_hidden).flatten(1).norm(dim=1) /
                   hf_hidden.flatten(1).norm(dim=1)).tolist()
            worst = max(range(len(rel)), key=lambda i: rel[i])
            diff = (logits - hf_logits).abs().max().item()
            same = int(logits.argmax()) == int(hf_logits.argmax())
            entry[tag] = {"worst_hidden_rel": rel[worst], "worst_layer": worst,
                          "hidden_rel_per_layer": rel, "last_logits_max_abs": diff,
                          "same_argmax": same}
            report(rel[worst] < HIDDEN_REL_TOL, f"{name} {label} vs transformers ({dev}) hidden "
                   f"states over {meta['tokens']} tokens",
                   f"worst layer {worst} rel. error {rel[worst]:.3g} (tolerance "
                   f"{HIDDEN_REL_TOL:g})")
            report(diff < LOGIT_ABS_TOL and same, f"{name} {label} vs transformers last logits",
                   f"max abs {diff:.3g} (tolerance {LOGIT_ABS_TOL:g}), same argmax: {same}")

        with open(os.path.join(work, name + ".gen.json")) as f:
            spec = json.load(f)
        soft = torch.from_numpy(
            __import__("numpy").fromfile(os.path.join(work, spec["soft"]), dtype="float32")
        ).reshape(spec["soft_rows"], -1).to(dev)
        embed = model.get_input_embeddings()
        with torch.no_grad():
            embeds = torch.cat([embed(torch.tensor(spec["head"], device=dev)), soft,
                                embed(torch.tensor(spec["tail"], device=dev))])
            hf_tokens = greedy(model, embeds, spec["max_new_tokens"])
        with open(os.path.join(work, name + ".gen.out.json")) as f:
            ours = json.load(f)
        for tag, label in (("cpu", "cpu"), ("dev", "runtime on " + dev)):
            agree = next((i for i, (a, b) in enumerate(zip(ours[tag], hf_tokens)) if a != b),
                         len(hf_tokens))
            entry["greedy_" + tag + "_agree"] = agree
            report(ours[tag] == hf_tokens, f"{name} {label} greedy with soft tokens vs transformers",
                   f"{agree} of {len(hf_tokens)} tokens agree")

        with torch.no_grad():
            entry["hf_fp32"] = bench(model)
            entry["hf_bf16"] = bench(model.to(torch.bfloat16))
        bench_path = os.path.join(work, name + ".bench.json")
        if os.path.exists(bench_path):
            with open(bench_path) as f:
                entry["runtime"] = json.load(f)
        del model
        if dev == "cuda":
            torch.cuda.empty_cache()

    print(f"\n{summary['device']}, torch {summary['torch']}, transformers "
          f"{summary['transformers']}; medians, tokens/s")
    print("| model | engine | prefill 64 | prefill 512 | decode (64+128) |")
    print("| --- | --- | --- | --- | --- |")
    for name, e in summary["models"].items():
        rows = [("latentbus fp32", e.get("runtime")), ("transformers fp32", e["hf_fp32"]),
                ("transformers bf16", e["hf_bf16"])]
        for label, r in rows:
            if r is None:
                continue
            p = {x["tokens"]: x["tok_s"] for x in r["prefill"]}
            d = r["decode"]["tok_s"] if "decode" in r else r["decode_tok_s"]
            print(f"| {name} | {label} | {p[64]:,.0f} | {p[512]:,.0f} | {d:,.1f} |")
    summary["failures"] = failures
    with open(os.path.join(work, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    return 1 if failures else 0


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "make":
        make(sys.argv[2], "--small" in sys.argv[3:])
        return 0
    if len(sys.argv) == 3 and sys.argv[1] == "check":
        return check(sys.argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
