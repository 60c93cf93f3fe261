#!/usr/bin/env python3
"""sentence-transformers side of the embedding benchmark (see README.md beside this file).

Two jobs:
  st_bench.py --write-texts FILE [--corpus synthetic|short|locomo] [--count N]
      write the benchmark texts, one JSON string per line (the Rust bench reads the same file);
  st_bench.py --texts FILE [--batch 1,64] [--count N] [--warmup N] [--threads 2] [--json]
      embed them with sentence-transformers (PyTorch, CPU) from the local model directory and print texts/s.

The model is read from $MEMLANE_MODEL_DIR (default ~/.cache/memlane/models/all-MiniLM-L6-v2); nothing is
downloaded (HF_HUB_OFFLINE is set).
"""

import argparse
import glob
import json
import os
import random
import sys
import time

WORDS = (
    "the user agent memory prefers dark mode editor meeting billing team moved tuesday staging key rotates month "
    "hiking mountains weekends autumn cache store database index search query vector result answer question "
    "project deadline release version bug fix deploy server client request response latency error retry timeout "
    "customer invoice refund payment order shipping address phone email calendar reminder note summary travel "
    "flight hotel budget plan family friend birthday gift dinner restaurant coffee morning evening weekend "
    "python rust function module test build pipeline container cluster replica backup restore migrate schema "
    "likes wants needs asked said told wrote remembered forgot booked cancelled scheduled finished started "
    "because although while after before during since until when where which who whose that this these those "
    "a an and or but not with without for from into onto about over under between through across"
).split()

OPENERS = ["", "User: ", "Assistant: ", "Note: ", "Caroline: ", "Melanie: ", "TODO: "]


def synthetic(count, seed=7, short=False):
    """Memory-like texts with a realistic spread of lengths: mostly 7-30 words, some short, some long ones (or,
    with short=True, only 7-30 words: little padding for anyone)."""
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        r = rng.random()
        if short:
            n = rng.randint(7, 30)
        elif r < 0.15:
            n = rng.randint(2, 6)
        elif r < 0.80:
            n = rng.randint(7, 30)
        elif r < 0.95:
            n = rng.randint(31, 80)
        else:
            n = rng.randint(81, 260)
        words = [rng.choice(WORDS) for _ in range(n)]
        if rng.random() < 0.3:
            words.insert(rng.randrange(len(words) + 1), str(rng.randint(1, 9999)))
        text = rng.choice(OPENERS) + " ".join(words)
        texts.append(text[0].upper() + text[1:] + rng.choice([".", ".", "!", "?"]))
    return texts


def locomo(count):
    """Dialog turns of the LoCoMo conversations in shared/data/locomo, as '<speaker>: <text>'."""
    shared = os.environ.get("MEMLANE_SHARED_DIR") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared"
    )
    texts = []
    for path in sorted(glob.glob(os.path.join(shared, "data", "locomo", "conv-*.json"))):
        with open(path) as f:
            conv = json.load(f)
        n = 1
        while f"session_{n}" in conv:
            for turn in conv[f"session_{n}"]:
                text = f"{turn['speaker']}: {turn['text']}"
                if turn.get("blip_caption"):
                    text += f" [image: {turn['blip_caption']}]"
                texts.append(text)
            n += 1
    if not texts:
        sys.exit(f"st_bench: no LoCoMo conversations under {shared}/data/locomo")
    return texts[:count]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--write-texts")
    p.add_argument("--corpus", choices=["synthetic", "short", "locomo"], default="synthetic")
    p.add_argument("--texts")
    p.add_argument("--batch", default="1,64")
    p.add_argument("--count", type=int, default=512)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()

    if a.write_texts:
        if a.corpus == "locomo":
            texts = locomo(a.count)
        else:
            texts = synthetic(a.count, short=a.corpus == "short")
        with open(a.write_texts, "w") as f:
            for t in texts:
                f.write(json.dumps(t, ensure_ascii=False) + "\n")
        return
    if not a.texts:
        p.error("--texts or --write-texts is required")

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(a.threads)
    model_dir = os.environ.get("MEMLANE_MODEL_DIR") or os.path.expanduser(
        "~/.cache/memlane/models/all-MiniLM-L6-v2"
    )
    t0 = time.perf_counter()
    model = SentenceTransformer(model_dir, device="cpu")
    load_s = time.perf_counter() - t0
    with open(a.texts) as f:
        corpus = [json.loads(line) for line in f if line.strip()]
    texts = [corpus[i % len(corpus)] for i in range(a.count)]
    if not a.json:
        print(f"sentence-transformers: model loaded in {load_s:.2f}s; {len(texts)} texts, "
              f"torch {torch.__version__}, {torch.get_num_threads()} threads, max_seq_length {model.max_seq_length}")
    for batch in [int(b) for b in a.batch.split(",")]:
        chunks = [texts[i:i + batch] for i in range(0, len(texts), batch)]
        with torch.inference_mode():
            for chunk in chunks[: a.warmup]:
                model.encode(chunk, batch_size=batch, normalize_embeddings=True)
            start = time.perf_counter()
            cpu_start = time.process_time()
            n = 0
            for chunk in chunks:
                n += len(model.encode(chunk, batch_size=batch, normalize_embeddings=True))
            secs = time.perf_counter() - start
            cpu = time.process_time() - cpu_start
        rate = n / secs
        if a.json:
            print(json.dumps({"impl": "sentence-transformers", "batch": batch, "texts": n,
                              "seconds": round(secs, 4), "cpu_seconds": round(cpu, 2),
                              "texts_per_s": round(rate, 2)}))
        else:
            print(f"sentence-transformers: batch {batch:>3}: {rate:>8.1f} texts/s ({n} texts in {secs:.2f}s, "
                  f"{cpu:.2f} CPU-s)")


if __name__ == "__main__":
    main()
