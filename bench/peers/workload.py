"""The shared workload: deterministic texts for every system, and their vectors for the preload.

    python workload.py OUT_DIR --preload N --ops OPS --warmup W --model DIR

writes into OUT_DIR:
  preload.jsonl   N memories: {"text", "category", "n"}
  preload.f32     their all-MiniLM-L6-v2 vectors (N x 384 little-endian float32, normalized), computed once with
                  sentence-transformers so that every system starts from the same vectors
  adds.jsonl      texts for the measured `add` operations (never in the preload: every add embeds a new text)
  queries.jsonl   query texts for semantic and hybrid search, each used once in the whole run (no system can
                  answer from a cache of earlier queries)
  meta.json       the sizes and the category names

Texts are generated from word lists with a seeded random generator (seed 11): the same on every machine and run.
"""

import argparse
import json
import os
import random

CATEGORIES = [
    "travel", "food", "work", "health", "family", "music", "sports", "finance",
    "books", "movies", "garden", "pets", "tech", "cars", "home", "school",
]

VOCAB = {
    "travel": ["flight to Lisbon", "train pass for Japan", "hotel near the old town", "hiking trip in Norway",
               "passport renewal", "window seat", "beach resort in Crete", "road trip along the coast"],
    "food": ["vegetarian lasagna", "spicy ramen", "sourdough bread", "peanut allergy", "oat milk latte",
             "Sunday brunch", "homemade pesto", "sushi on Fridays"],
    "work": ["quarterly report", "standup at nine", "project deadline", "new manager", "remote work days",
             "performance review", "team offsite", "code review backlog"],
    "health": ["morning run", "dentist appointment", "knee injury", "yoga class", "vitamin D",
               "sleep schedule", "physiotherapy", "blood pressure check"],
    "family": ["sister's wedding", "kids' school pickup", "grandmother's birthday", "family dinner",
               "son's football match", "parents visiting", "cousin in Berlin", "anniversary gift"],
    "music": ["jazz records", "piano lessons", "concert tickets", "guitar strings", "playlist for running",
              "opera season", "vinyl collection", "choir rehearsal"],
    "sports": ["tennis on Tuesdays", "marathon training", "ski holiday", "climbing gym", "football season",
               "cycling club", "swimming laps", "golf lessons"],
    "finance": ["mortgage rate", "tax return", "savings account", "monthly budget", "credit card bill",
                "pension plan", "stock portfolio", "insurance renewal"],
    "books": ["science fiction novels", "book club", "library card", "poetry collection", "audiobooks",
              "history of Rome", "crime thrillers", "reading list"],
    "movies": ["film festival", "documentaries", "horror films", "streaming subscription", "cinema on Saturday",
               "classic westerns", "animated movies", "movie soundtrack"],
    "garden": ["tomato seedlings", "rose bushes", "compost heap", "lawn mower", "herb garden",
               "apple tree", "greenhouse", "watering schedule"],
    "pets": ["dog walker", "cat food brand", "vet appointment", "puppy training", "aquarium fish",
             "parrot cage", "flea treatment", "pet insurance"],
    "tech": ["new laptop", "phone upgrade", "password manager", "home Wi-Fi", "mechanical keyboard",
             "cloud backup", "smart watch", "printer ink"],
    "cars": ["electric car", "oil change", "winter tyres", "parking permit", "car insurance",
             "driving lessons", "car wash", "roadside assistance"],
    "home": ["kitchen renovation", "leaking tap", "new sofa", "heating bill", "cleaning rota",
             "moving boxes", "paint for the bedroom", "smoke detector"],
    "school": ["math homework", "parent-teacher meeting", "school trip", "exam results", "lunch money",
               "science fair", "summer camp", "university applications"],
}

PEOPLE = ["Alice", "Bob", "Chen", "Dana", "Emeka", "Farah", "Goran", "Hana", "Ivan", "Julia", "Kofi", "Lena"]
VERBS = ["prefers", "mentioned", "is planning", "asked about", "worries about", "loves", "forgot about",
         "booked", "wants to change", "talked about", "is excited about", "complained about"]
WHEN = ["last week", "yesterday", "this morning", "next month", "every weekend", "in the spring",
        "after work", "before the holidays", "on Monday", "twice a year"]
QUESTION = ["What does the user think about", "Anything about", "Remind me of", "What was said about",
            "Details on", "Notes about"]


def memory_text(rng: random.Random, n: int):
    category = CATEGORIES[rng.randrange(len(CATEGORIES))]
    topic = rng.choice(VOCAB[category])
    other = rng.choice(VOCAB[category])
    text = f"{rng.choice(PEOPLE)} {rng.choice(VERBS)} the {topic} {rng.choice(WHEN)}, and the {other} (note {n})."
    return {"text": text, "category": category, "n": n}


def query_text(rng: random.Random, n: int):
    category = CATEGORIES[rng.randrange(len(CATEGORIES))]
    return {"text": f"{rng.choice(QUESTION)} the {rng.choice(VOCAB[category])}? ({rng.choice(PEOPLE)}, q{n})",
            "category": category, "n": n}


def write_jsonl(path, rows):
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--preload", type=int, required=True)
    p.add_argument("--ops", type=int, required=True)
    p.add_argument("--warmup", type=int, required=True)
    p.add_argument("--model", required=True)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    meta = {"preload": a.preload, "ops": a.ops, "warmup": a.warmup, "categories": CATEGORIES, "seed": 11}
    meta_path = os.path.join(a.out, "meta.json")
    if os.path.exists(meta_path) and os.path.exists(os.path.join(a.out, "preload.f32")):
        with open(meta_path) as f:
            if json.load(f) == meta:
                return  # already generated for these sizes
    rng = random.Random(11)
    per_phase = a.ops + a.warmup
    preload = [memory_text(rng, n) for n in range(a.preload)]
    # two phases (1 and 16 clients); add needs one new text per operation and phase
    adds = [memory_text(rng, a.preload + n) for n in range(2 * per_phase)]
    # two phases x two search operations (semantic, hybrid), each text used once
    queries = [query_text(rng, n) for n in range(4 * per_phase)]
    write_jsonl(os.path.join(a.out, "preload.jsonl"), preload)
    write_jsonl(os.path.join(a.out, "adds.jsonl"), adds)
    write_jsonl(os.path.join(a.out, "queries.jsonl"), queries)

    import numpy as np
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(a.model, device="cpu")
    vectors = model.encode([r["text"] for r in preload], batch_size=64, normalize_embeddings=True,
                           convert_to_numpy=True, show_progress_bar=False)
    vectors.astype("<f4").tofile(os.path.join(a.out, "preload.f32"))
    with open(meta_path, "w") as f:
        json.dump(meta, f)


if __name__ == "__main__":
    main()
