#!/usr/bin/env python3
"""Reference implementation of the ranking formulas of docs/retrieval.md, for ablations on LoCoMo.

Usage (needs numpy, snowballstemmer and, for the README's BM25 baseline, rank_bm25):
    cargo run --release -p memlane-eval --example dump_vectors -- DIR vecs.json
    python3 crates/memlane-eval/reference/ablation.py DIR vecs.json

Prints one markdown row per variant: R@5, R@10, Hit@5, Hit@10, then R@5 / R@10 per category (1-4).
It mirrors the embedded store (crates/memlane/src/embedded/text, search.rs); memlane-eval is the measure of record.
"""
import collections, contextlib, datetime, io, json, math, re, sys
import numpy as np
import glob
def load(d='/work/shared/data/locomo'):
    convs=[]
    for f in sorted(glob.glob(d+'/*.json')):
        j=json.load(open(f))
        sess=sorted([(int(k[8:]),v) for k,v in j.items() if re.fullmatch(r'session_\d+',k) and isinstance(v,list)])
        turns=[]
        for n,l in sess:
            date=j.get(f'session_{n}_date_time')
            for i,t in enumerate(l):
                c=f"{t['speaker']}: {t['text']}"
                if t.get('blip_caption'): c+=f" [image: {t['blip_caption']}]"
                turns.append(dict(id=t['dia_id'],session=n,idx=i,content=c,date=date,speaker=t['speaker']))
        qs=[]
        for q in j['qa']:
            if q['category']==5 or not q.get('evidence'): continue
            ev=[]
            for e in q['evidence']:
                for x in e.split(';'):
                    x=x.strip()
                    if x and x not in ev: ev.append(x)
            qs.append(dict(q=q['question'],cat=q['category'],ev=ev))
        convs.append(dict(name=f.split('/')[-1][:-5],turns=turns,qs=qs,a=j['speaker_a'],b=j['speaker_b']))
    return convs
def evaluate(convs, rank_fn, label=''):
    import collections
    res=collections.defaultdict(lambda:[0,0,0,0,0])
    for c in convs:
        for qi,q in enumerate(c['qs']):
            order=rank_fn(c,qi,q)  # list of turn indices best first
            ids=[c['turns'][i]['id'] for i in order[:10]]
            ev=q['ev']
            f5=sum(e in ids[:5] for e in ev); f10=sum(e in ids for e in ev)
            for k in ('all',q['cat']):
                r=res[k]; r[0]+=1; r[1]+=f5/len(ev); r[2]+=f10/len(ev); r[3]+=f5>0; r[4]+=f10>0
    out={k:tuple(round(x/v[0],3) for x in v[1:]) for k,v in res.items()}
    print(f"{label:40s} all R5 {out['all'][0]:.3f} R10 {out['all'][1]:.3f} H5 {out['all'][2]:.3f} H10 {out['all'][3]:.3f} | "+' '.join(f"c{k}:{out[k][0]:.3f}/{out[k][1]:.3f}" for k in (1,2,3,4)))
    return out

import snowballstemmer
ST=snowballstemmer.stemmer('english')
# A standard English stopword list (Lucene/Snowball-ish small list)
STOP=set("""a an and are as at be but by for if in into is it no not of on or such that the their then there these they this to was will with
i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers herself its itself them theirs themselves
what which who whom those am were been being have has had having do does did doing would should could ought
because until while about against between through during before after above below from up down out off over under again further once here
when where why how all any both each few more most other some own same so than too very s t can just don now d ll m o re ve y""".split())
def tokens(s, stem=True, stop=False, minlen=1):
    toks=re.findall(r"[a-z0-9]+",s.lower())
    if stop: toks=[t for t in toks if t not in STOP]
    if stem: toks=ST.stemWords(toks)
    return [t for t in toks if len(t)>=minlen]
class BM25:
    def __init__(self,docs,k1=1.2,b=0.75,idf='lucene'):
        self.k1,self.b=k1,b
        self.tf=[collections.Counter(d) for d in docs]
        self.len=[len(d) for d in docs]
        self.avg=sum(self.len)/max(1,len(docs))
        df=collections.Counter()
        for t in self.tf: df.update(t.keys())
        N=len(docs)
        if idf=='lucene': self.idf={t:math.log(1+(N-n+0.5)/(n+0.5)) for t,n in df.items()}
        self.post=collections.defaultdict(list)
        for i,t in enumerate(self.tf):
            for w,c in t.items(): self.post[w].append((i,c))
    def scores(self,q,qtf=False):
        s=[0.0]*len(self.tf)
        terms=collections.Counter(q) if qtf else dict.fromkeys(q,1)
        for w,qc in terms.items():
            if w not in self.idf: continue
            idf=self.idf[w]
            for i,c in self.post[w]:
                s[i]+=qc*idf*c*(self.k1+1)/(c+self.k1*(1-self.b+self.b*self.len[i]/self.avg))
        return s
def order(s): return sorted(range(len(s)),key=lambda i:(-s[i],i))


MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october',
          'november', 'december']
MP = '|'.join(MONTHS)


def pdate(s):
    return datetime.datetime.strptime(s.replace(' am ', ' AM ').replace(' pm ', ' PM '), '%I:%M %p on %d %B, %Y')


def windows(q):
    """The periods a query names: days, else months of a year, else bare months, else years."""
    t = q.lower()
    out = []
    for m in re.finditer(r'\b(\d{1,2})(?:st|nd|rd|th)?\s+(' + MP + r'),?\s*(\d{4})\b', t):
        out.append(('day', int(m[3]), MONTHS.index(m[2]) + 1, int(m[1])))
    for m in re.finditer(r'\b(' + MP + r')\s+(\d{1,2})(?:st|nd|rd|th)?,?\s*(\d{4})\b', t):
        out.append(('day', int(m[3]), MONTHS.index(m[1]) + 1, int(m[2])))
    if not out:
        for m in re.finditer(r'\b(' + MP + r')\s*,?\s*(\d{4})\b', t):
            out.append(('month', int(m[2]), MONTHS.index(m[1]) + 1, None))
    if not out:
        for m in re.finditer(r'\b(' + MP + r')\b', t):
            if m[1] != 'may':
                out.append(('month', None, MONTHS.index(m[1]) + 1, None))
    if not out:
        for m in re.finditer(r'\b(19\d\d|20\d\d)\b', t):
            out.append(('year', int(m[1]), None, None))
    return out


def inwin(dt, w):
    k, y, mo, d = w
    if k == 'day':
        return dt.date() == datetime.date(y, mo, d)
    if k == 'month':
        return dt.month == mo and (y is None or dt.year == y)
    return dt.year == y


def main():
    convs = load(sys.argv[1])
    vecs = json.load(open(sys.argv[2]))
    for c, v in zip(convs, vecs):
        assert c['name'] == v['name']
        c['tv'] = np.array(v['turns'], dtype=np.float32)
        c['qv'] = np.array(v['questions'], dtype=np.float32)
        c['dt'] = [pdate(t['date']) for t in c['turns']]
        T = c['turns']
        c['prev'] = np.array([i - 1 if i > 0 and T[i - 1]['session'] == T[i]['session'] else i for i in range(len(T))])
        c['next'] = np.array([i + 1 if i + 1 < len(T) and T[i + 1]['session'] == T[i]['session'] else i
                              for i in range(len(T))])
    idx = {}

    def L(c, q, stem=True, stop=True):
        if (stem, stop) not in idx:
            idx[(stem, stop)] = {x['name']: BM25([tokens(t['content'], stem, stop) for t in x['turns']]) for x in convs}
        return np.array(idx[(stem, stop)][c['name']].scores(tokens(q['q'], stem, stop)))

    def S(c, qi):
        return np.maximum(c['tv'] @ c['qv'][qi], 0)

    def relmax(s):
        return s / s.max() if s.max() > 0 else s

    def ctx(c, s, w=0.5, matched_only=False):
        out = (s + w * np.maximum(s[c['prev']], s[c['next']])) / (1 + w)
        return np.where(s > 0, out, 0) if matched_only else out

    def when(c, q, s):
        ws = windows(q['q'])
        if not ws:
            return s
        inside = np.array([any(inwin(d, w) for w in ws) for d in c['dt']], dtype=float)
        return s * (0.5 + 0.5 * inside)

    def rrf(*ss, k=60):
        out = np.zeros(len(ss[0]))
        for s in ss:
            r = np.empty(len(s))
            r[np.argsort(-s, kind='stable')] = np.arange(len(s))
            out += 1 / (k + r + 1)
        return out

    def ordr(s):
        return list(np.lexsort((np.arange(len(s)), -s)))

    def E(label, fn):
        with contextlib.redirect_stdout(io.StringIO()):
            o = evaluate(convs, lambda c, qi, q: ordr(fn(c, qi, q)), label)
        a = o['all']
        print(f"| {label} | {a[0]:.3f} | {a[1]:.3f} | {a[2]:.3f} | {a[3]:.3f} | "
              + " | ".join(f"{o[k][0]:.3f} / {o[k][1]:.3f}" for k in (1, 2, 3, 4)) + " |")

    hyb = lambda c, qi, q, a=0.5: a * S(c, qi) + (1 - a) * relmax(L(c, q))
    try:
        from rank_bm25 import BM25Okapi
        okapi = {c['name']: BM25Okapi([re.findall(r'[a-z0-9]+', t['content'].lower()) for t in c['turns']])
                 for c in convs}
        E('README baseline: rank_bm25 Okapi',
          lambda c, qi, q: okapi[c['name']].get_scores(re.findall(r'[a-z0-9]+', q['q'].lower())))
    except ImportError:
        pass
    print('keyword')
    E('BM25, Lucene IDF over the scope, lowercase words', lambda c, qi, q: L(c, q, False, False))
    E('+ Snowball stemming', lambda c, qi, q: L(c, q, True, False))
    E('+ stopwords', lambda c, qi, q: L(c, q))
    E('+ session context (weight 0.5)', lambda c, qi, q: ctx(c, L(c, q), 0.5, True))
    E('+ time expressions', lambda c, qi, q: when(c, q, ctx(c, L(c, q), 0.5, True)))
    print('semantic')
    E('MiniLM cosine', lambda c, qi, q: S(c, qi))
    print('hybrid')
    E('RRF k=60', lambda c, qi, q: rrf(L(c, q), S(c, qi)))
    E('relative score fusion, alpha 0.5', hyb)
    E('+ session context (weight 0.5)', lambda c, qi, q: ctx(c, hyb(c, qi, q)))
    E('+ time expressions', lambda c, qi, q: when(c, q, ctx(c, hyb(c, qi, q))))
    for a in (0.4, 0.6):
        E(f'final, alpha {a}', lambda c, qi, q: when(c, q, ctx(c, hyb(c, qi, q, a))))
    for w in (0.3, 0.7, 1.0):
        E(f'final, context weight {w}', lambda c, qi, q: when(c, q, ctx(c, hyb(c, qi, q), w)))


if __name__ == '__main__':
    main()
