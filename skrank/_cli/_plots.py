"""The demo's figures, drawn with matplotlib's Agg backend (no display needed)."""

from __future__ import annotations

from pathlib import Path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_roc_curves(y_true, scores: dict, path: Path, *, title: str) -> Path:
    """One ROC curve per model (``scores``: label -> positive-class probabilities)."""
    from sklearn.metrics import roc_auc_score, roc_curve

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 6))
    for label, score in scores.items():
        fpr, tpr, _ = roc_curve(y_true, score)
        ax.plot(fpr, tpr, label=f"{label} (AUC {roc_auc_score(y_true, score):.3f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1, label="chance")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=title)
    ax.set_aspect("equal")
    ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_training_curves(histories: dict, path: Path, *, title: str) -> Path:
    """Training and validation loss per epoch (``histories``: label -> (history_, loss name))."""
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    n = max(len(histories), 1)
    ncols = min(n, 2)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5 * ncols, 3.8 * nrows), squeeze=False)
    for ax in axes.flat[len(histories) :]:
        ax.set_visible(False)
    for ax, (label, (history, loss_name)) in zip(axes.flat, histories.items(), strict=False):
        epochs = range(1, len(history.get("loss", [])) + 1)
        ax.plot(epochs, history.get("loss", []), marker="o", label="training")
        if "val_loss" in history:
            val = history["val_loss"]
            ax.plot(epochs, val, marker="o", label="validation")
            best = min(range(len(val)), key=val.__getitem__)
            ax.axvline(best + 1, color="grey", linestyle=":", linewidth=1, label="kept weights")
        ax.set(title=label, xlabel="epoch", ylabel=loss_name)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize="small")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
