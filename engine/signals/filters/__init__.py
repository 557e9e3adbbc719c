"""Predictive filters: models that veto or confirm the ensemble's decisions.

    features  causal feature matrices from engine indicators and regime probabilities
    target    the direction label of the next `horizon` bars, with a dead band
    cv        expanding time-series folds with a gap, and the fold report with baselines
    classify  direction (and volume-surge) classifiers: logistic, random forest, LightGBM
    garch     GARCH(1,1) with arch, and its forecast recursion
    realized  realized-volatility targets, and the ML regressor of it
    volume    the volume z-score and its surge label
    predict   per-bar predictions over a frame: walk-forward refits or one stored model
    verdicts  per-bar verdicts and the rule that vetoes a decision whole
    modelfile model files with a SHA-256 check on load
    training  `desk train`: cross-validate, fit on all the data, store

Heavy libraries (scikit-learn, lightgbm, arch, scipy.special) are imported inside the
functions that use them: importing this package costs only numpy.
"""
