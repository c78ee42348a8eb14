#!/usr/bin/python3
"""Reference vectors for src/training/evaluation, computed with scikit-learn.

Run with Debian's interpreter, which has python3-sklearn (1.2.1 on bookworm):

    /usr/bin/python3 scripts/vectors/eval_vectors.py

It writes src/training/evaluation/fixtures/{classification,regression,calibration,preprocessing}.json
(the last one checks src/training/preprocessing's scalers and tf-idf against sklearn) and then
formats them with biome (so `npm run lint` stays clean). The TypeScript tests compare against these
files to 1e-12 relative; they never need Python. Inputs are seeded, so re-running reproduces the
same files unless sklearn's definitions change (which is what a diff would then show).

ECE has no sklearn function: `numpy_ece` below is the independent numpy implementation that the
TypeScript `calibration()` is checked against (definition in src/training/evaluation/calibration.ts).
"""

import json
import platform
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import sklearn
from sklearn import metrics
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.preprocessing import MinMaxScaler, StandardScaler

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "src" / "training" / "evaluation" / "fixtures"


def plain(value):
    """numpy → JSON-able Python (NaN → None)."""
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return None if np.isnan(value) else value
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.str_):
        return str(value)
    return value


def softmax(logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def prf_block(y_true, y_pred, labels, zero_division):
    out = {}
    p, r, f, s = metrics.precision_recall_fscore_support(
        y_true, y_pred, labels=labels, average=None, zero_division=zero_division
    )
    out["perClass"] = {"precision": plain(p), "recall": plain(r), "f1": plain(f), "support": plain(s)}
    for average in ("macro", "weighted", "micro"):
        p, r, f, _ = metrics.precision_recall_fscore_support(
            y_true, y_pred, labels=labels, average=average, zero_division=zero_division
        )
        out[average] = {"precision": plain(p), "recall": plain(r), "f1": plain(f)}
    return out


def classification_case(name, y_true, y_pred, proba=None, labels=None, zero_divisions=("warn", 1)):
    """proba columns follow the sorted classes (sklearn's convention)."""
    y_true = list(y_true)
    y_pred = list(y_pred)
    all_labels = sorted(set(y_true) | set(y_pred)) if labels is None else list(labels)
    case = {
        "name": name,
        "yTrue": plain(y_true),
        "yPred": plain(y_pred),
        "labels": plain(all_labels),
        "expected": {
            "accuracy": plain(metrics.accuracy_score(y_true, y_pred)),
            "confusionMatrix": plain(metrics.confusion_matrix(y_true, y_pred, labels=labels)),
            "prf": {str(z): prf_block(y_true, y_pred, labels, z) for z in zero_divisions},
        },
    }
    if labels is not None:
        case["labelsGiven"] = plain(labels)
    if proba is not None:
        proba = np.asarray(proba, dtype=np.float64)
        classes = sorted(set(y_true))
        case["classes"] = plain(classes)
        case["probabilities"] = plain(proba)
        expected = case["expected"]
        expected["logLoss"] = plain(metrics.log_loss(y_true, proba, labels=classes))
        if len(classes) == 2:
            positive = proba[:, 1]
            expected["rocAucBinary"] = plain(metrics.roc_auc_score(y_true, positive))
            expected["logLossPositiveColumn"] = plain(metrics.log_loss(y_true, positive))
            y_bin = (np.asarray(y_true, dtype=object) == classes[1]).astype(int)
            fpr, tpr, thresholds = metrics.roc_curve(y_bin, positive)
            expected["rocCurve"] = {"fpr": plain(fpr), "tpr": plain(tpr), "thresholds": plain(thresholds)}
        else:
            expected["rocAucOvr"] = {
                "macro": plain(metrics.roc_auc_score(y_true, proba, multi_class="ovr", average="macro")),
                "weighted": plain(metrics.roc_auc_score(y_true, proba, multi_class="ovr", average="weighted")),
                "micro": plain(metrics.roc_auc_score(y_true, proba, multi_class="ovr", average="micro")),
                "perClass": plain(metrics.roc_auc_score(y_true, proba, multi_class="ovr", average=None)),
            }
    return case


def numpy_ece(y_true, proba, classes, n_bins):
    """ECE as defined in calibration.ts, written independently with numpy."""
    y_true = np.asarray(y_true, dtype=object)
    proba = np.asarray(proba, dtype=np.float64)
    if len(classes) == 2:
        score = proba[:, 1]
        outcome = (y_true == classes[1]).astype(np.float64)
    else:
        best = proba.argmax(axis=1)
        score = proba[np.arange(len(proba)), best]
        truth = np.array([classes.index(v) for v in y_true])
        outcome = (best == truth).astype(np.float64)
    bins = np.minimum(np.floor(score * n_bins), n_bins - 1).astype(int)
    counts = np.bincount(bins, minlength=n_bins)
    score_sums = np.bincount(bins, weights=score, minlength=n_bins)
    outcome_sums = np.bincount(bins, weights=outcome, minlength=n_bins)
    ece = 0.0
    mce = 0.0
    out_bins = []
    for b in range(n_bins):
        if counts[b] == 0:
            out_bins.append({"count": 0, "meanScore": None, "observed": None})
            continue
        mean_score = score_sums[b] / counts[b]
        observed = outcome_sums[b] / counts[b]
        gap = abs(observed - mean_score)
        ece += counts[b] / len(score) * gap
        mce = max(mce, gap)
        out_bins.append({"count": int(counts[b]), "meanScore": float(mean_score), "observed": float(observed)})
    return {"ece": float(ece), "mce": float(mce), "bins": out_bins}


def classification_cases(rng):
    cases = []

    # Binary 0/1 with scores rounded to one decimal: many ties between positives and negatives.
    n = 200
    y = rng.randint(0, 2, n)
    p1 = np.clip(np.round(0.35 * y + rng.uniform(0, 0.65, n), 1), 0, 1)
    proba = np.stack([1 - p1, p1], axis=1)
    cases.append(classification_case("binary-int-ties", y, (p1 >= 0.5).astype(int), proba))

    # Binary strings, continuous scores, including exact 0 and 1 (log-loss clipping).
    n = 150
    y = np.where(rng.uniform(size=n) < 0.3, "spam", "ham")
    p_spam = 1 / (1 + np.exp(-(2.5 * (y == "spam") - 1.2 + rng.normal(0, 1.2, n))))
    p_spam[:3] = [0.0, 1.0, 1.0]
    p_spam[3:6] = [1.0, 0.0, 0.5]
    proba = np.stack([1 - p_spam, p_spam], axis=1)
    y_pred = np.where(p_spam > 0.5, "spam", "ham")
    cases.append(classification_case("binary-string-clipping", y, y_pred, proba))

    # Four classes with non-ASCII names, softmax probabilities, argmax predictions.
    classes = ["ant", "bee", "cat", "émeu"]
    n = 300
    y_idx = rng.randint(0, 4, n)
    logits = rng.normal(0, 1, (n, 4))
    logits[np.arange(n), y_idx] += 1.3
    proba = softmax(logits)
    y = np.array(classes, dtype=object)[y_idx]
    y_pred = np.array(classes, dtype=object)[proba.argmax(axis=1)]
    cases.append(classification_case("multiclass-strings", y, y_pred, proba))

    # Ten digit classes, probabilities rounded to 2 decimals (ties, rows off 1 by < 1e-5 after renormalising).
    n = 500
    y = rng.randint(0, 10, n)
    logits = rng.normal(0, 1, (n, 10))
    logits[np.arange(n), y] += 2.0
    proba = np.round(softmax(logits), 2)
    proba[:, -1] = 1 - proba[:, :-1].sum(axis=1)
    proba = np.clip(proba, 0, 1)
    proba = proba / proba.sum(axis=1, keepdims=True)
    cases.append(classification_case("digits-rounded", y, proba.argmax(axis=1), proba))

    # A class that is never predicted and a predicted label that never occurs: zero division.
    y = np.array([0, 0, 1, 1, 2, 2, 2, 3])
    y_pred = np.array([0, 1, 1, 1, 0, 0, 4, 3])
    cases.append(classification_case("zero-division", y, y_pred))

    # Restricting labels (subset and a label absent from both arrays).
    y = np.array(["a", "b", "c", "a", "b", "c", "a", "d"])
    y_pred = np.array(["a", "c", "c", "b", "b", "a", "a", "d"])
    cases.append(classification_case("labels-subset", y, y_pred, labels=["a", "c", "z"]))

    # Every prediction wrong, and every true label the same class.
    cases.append(classification_case("single-true-class", ["x"] * 5, ["y", "x", "y", "y", "y"]))
    return cases


def calibration_cases(rng, classification):
    out = []
    for case in classification:
        if "probabilities" not in case:
            continue
        for n_bins in (10, 15):
            out.append(
                {
                    "name": f"{case['name']}-{n_bins}",
                    "source": case["name"],
                    "bins": n_bins,
                    "expected": numpy_ece(case["yTrue"], case["probabilities"], case["classes"], n_bins),
                }
            )
    # A perfectly calibrated corner: scores exactly on bin edges (0.1, 0.5, 1.0).
    y = [0, 1, 0, 1, 1, 0, 1, 1]
    p1 = [0.1, 0.5, 0.5, 1.0, 1.0, 0.0, 0.7, 0.3]
    proba = [[1 - p, p] for p in p1]
    out.append(
        {
            "name": "bin-edges",
            "yTrue": y,
            "probabilities": proba,
            "classes": [0, 1],
            "bins": 10,
            "expected": numpy_ece(y, proba, [0, 1], 10),
        }
    )
    return out


def regression_case(name, y_true, y_pred):
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r2 = metrics.r2_score(y_true, y_pred)
    return {
        "name": name,
        "yTrue": plain(y_true),
        "yPred": plain(y_pred),
        "expected": {
            "mse": plain(metrics.mean_squared_error(y_true, y_pred)),
            "rmse": plain(metrics.mean_squared_error(y_true, y_pred, squared=False)),
            "mae": plain(metrics.mean_absolute_error(y_true, y_pred)),
            "r2": plain(r2),
        },
    }


def regression_cases(rng):
    n = 120
    x = rng.uniform(0, 50, n)
    y = 3 * x + rng.normal(0, 5, n)
    return [
        regression_case("linear-noise", y, 3 * x + rng.normal(0, 2, n)),
        regression_case("worse-than-mean", y, rng.uniform(0, 150, n)),
        regression_case("perfect", y, y.copy()),
        regression_case("constant-true-perfect", [4.2] * 6, [4.2] * 6),
        regression_case("constant-true-imperfect", [4.2] * 6, [4.2, 4.2, 4.0, 4.2, 5.0, 4.2]),
        regression_case("one-sample", [3.0], [2.5]),
        regression_case("negative-and-large", rng.normal(-1e6, 3e5, 40), rng.normal(-1e6, 3e5, 40)),
    ]


def preprocessing_cases(rng):
    train_docs = [
        "Win MONEY now!!! Click http://spam.example/win now",
        "Meeting at 10am: agenda attached, see you at the meeting",
        "Café naïve résumé — e-mail the résumé to me_2@example.org",
        "free free FREE offer, limited offer, act now",
        "lunch? the usual place at noon",
        "a b c single letters are dropped; 42 and x1 are kept",
        "Re: the agenda for tomorrow's meeting",
        "",
    ]
    test_docs = ["unknown words only zzz", "FREE meeting now now now", "", "résumé"]
    max_tokens = 12
    analyzer = CountVectorizer().build_analyzer()
    tokens = [analyzer(doc) for doc in train_docs]
    # Vocabulary rule of src/training/preprocessing/fit.ts: document frequency desc, then term.
    df = {}
    for doc_tokens in tokens:
        for term in set(doc_tokens):
            df[term] = df.get(term, 0) + 1
    vocabulary = [t for t, _ in sorted(df.items(), key=lambda item: (-item[1], item[0]))[:max_tokens]]
    tfidf = TfidfVectorizer(vocabulary=vocabulary).fit(train_docs)
    counts = CountVectorizer(vocabulary=vocabulary)
    binary = CountVectorizer(vocabulary=vocabulary, binary=True)

    x_train = rng.normal(5, 3, (30, 3))
    x_train[:, 2] = 7.0  # a constant column: sklearn keeps scale 1
    x_test = rng.normal(5, 6, (6, 3))
    standard = StandardScaler().fit(x_train)
    minmax = MinMaxScaler().fit(x_train)
    return {
        "text": {
            "trainDocs": train_docs,
            "testDocs": test_docs,
            "maxTokens": max_tokens,
            "tokens": tokens,
            "vocabulary": vocabulary,
            "idf": plain(tfidf.idf_),
            "tfidf": plain(tfidf.transform(test_docs).toarray()),
            "counts": plain(counts.transform(test_docs).toarray()),
            "binary": plain(binary.transform(test_docs).toarray()),
        },
        "scaling": {
            "train": plain(x_train),
            "test": plain(x_test),
            "standard": {"mean": plain(standard.mean_), "scale": plain(standard.scale_), "test": plain(standard.transform(x_test))},
            "minMax": {"test": plain(minmax.transform(x_test))},
        },
    }


def main():
    rng = np.random.RandomState(20240611)
    generator = {
        "script": "scripts/vectors/eval_vectors.py",
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        classification = classification_cases(rng)
    files = {
        "classification.json": {"generator": generator, "cases": classification},
        "calibration.json": {"generator": generator, "cases": calibration_cases(rng, classification)},
        "regression.json": {"generator": generator, "cases": regression_cases(rng)},
        "preprocessing.json": {"generator": generator, **preprocessing_cases(rng)},
    }
    OUT.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, content in files.items():
        path = OUT / name
        path.write_text(json.dumps(content, allow_nan=False) + "\n", encoding="utf-8")
        paths.append(str(path))
    # Biome owns the formatting of committed JSON; let it lay the files out.
    subprocess.run(["npx", "biome", "format", "--write", *paths], cwd=ROOT, check=True)
    print(f"wrote {len(paths)} fixture files with sklearn {sklearn.__version__}", file=sys.stderr)


if __name__ == "__main__":
    main()
