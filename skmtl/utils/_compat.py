"""The one place that knows which scikit-learn release is installed.

scikit-learn 1.6 moved input validation to the public ``validate_data``
function, replaced ``_more_tags`` (a dict, read with ``_safe_tags``) by
``__sklearn_tags__`` (a ``Tags`` object, read with ``get_tags``) and gave
``parametrize_with_checks`` its ``expected_failed_checks`` argument. skmtl
supports scikit-learn >= 1.5, so the rest of the package (and its tests) go
through these helpers. Estimators define both ``__sklearn_tags__`` and
``_more_tags``; each release reads only its own.
"""

import sklearn
from sklearn.utils.fixes import parse_version

SKLEARN_VERSION = parse_version(parse_version(sklearn.__version__).base_version)
SKLEARN_GE_1_6 = SKLEARN_VERSION >= parse_version("1.6")

try:
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # scikit-learn 1.5
    _validate_data = None

# ``get_tags(est)`` (>= 1.6) or ``legacy_tags(est)`` (1.5, the dict of tags);
# the other one is None.
try:
    from sklearn.utils import get_tags

    legacy_tags = None
except ImportError:  # scikit-learn 1.5
    from sklearn.utils._tags import _safe_tags as legacy_tags

    get_tags = None


def check_n_features_and_names(estimator, X, *, reset):
    """Record (``reset=True``) or check ``n_features_in_`` and ``feature_names_in_``.

    ``X`` is not converted: skmtl validates the feature part itself because
    in the long layout one column of ``X`` holds task labels, which may be
    strings.
    """
    if _validate_data is not None:
        _validate_data(estimator, X, reset=reset, skip_check_array=True)
    else:
        estimator._validate_data(X, reset=reset, cast_to_ndarray=False)


def parametrize_with_checks(estimators, *, expected_failed_checks=None):
    """scikit-learn's ``parametrize_with_checks`` with ``expected_failed_checks``.

    ``expected_failed_checks(estimator)`` returns ``{check_name: reason}``;
    those checks are marked ``xfail`` with that reason (not strict, as
    scikit-learn >= 1.6 does by default). scikit-learn 1.5 has no such
    argument (it reads the ``_xfail_checks`` tag instead), so there the
    same marks are added to the parametrization it generates, given to
    pytest as a list (pytest deprecates generators there). Imports pytest:
    for the test suite only.
    """
    from sklearn.utils import estimator_checks

    if SKLEARN_GE_1_6:
        return estimator_checks.parametrize_with_checks(
            estimators, expected_failed_checks=expected_failed_checks
        )
    import pytest

    decorator = estimator_checks.parametrize_with_checks(estimators)
    argnames, argvalues = decorator.mark.args
    params = []
    for value in argvalues:
        # scikit-learn 1.5 yields (estimator, check) tuples, or a
        # ``pytest.param`` when the estimator's ``_xfail_checks`` tag names it.
        param = value if hasattr(value, "marks") else pytest.param(*value)
        estimator, check = param.values
        name = getattr(check, "func", check).__name__
        failing = expected_failed_checks(estimator) if expected_failed_checks else None
        reason = (failing or {}).get(name)
        if reason is not None:
            param = pytest.param(
                *param.values, marks=[*param.marks, pytest.mark.xfail(reason=reason)], id=param.id
            )
        params.append(param)
    return pytest.mark.parametrize(argnames, params, **decorator.mark.kwargs)


def sample_weight_equivalence_checks():
    """scikit-learn's checks that weighting a row equals repeating it.

    ``[(name, check(name, estimator))]``: the dense and sparse checks of
    scikit-learn >= 1.6, ``check_sample_weights_invariance`` with
    ``kind="ones"`` and ``kind="zeros"`` before.
    """
    from sklearn.utils import estimator_checks

    if hasattr(estimator_checks, "check_sample_weight_equivalence_on_dense_data"):
        names = ("check_sample_weight_equivalence_on_dense_data",
                 "check_sample_weight_equivalence_on_sparse_data")
        return [(name, getattr(estimator_checks, name)) for name in names]
    from functools import partial

    check = estimator_checks.check_sample_weights_invariance
    return [(f"check_sample_weights_invariance[{kind}]", partial(check, kind=kind))
            for kind in ("ones", "zeros")]
