"""The one place that knows which scikit-learn release is installed.

scikit-learn 1.6 moved input validation to the public ``validate_data``
function and replaced ``_more_tags`` by ``__sklearn_tags__``. skmtl supports
scikit-learn >= 1.5, so the rest of the package goes through these helpers.
"""

import sklearn
from sklearn.utils.fixes import parse_version

SKLEARN_VERSION = parse_version(parse_version(sklearn.__version__).base_version)
SKLEARN_GE_1_6 = SKLEARN_VERSION >= parse_version("1.6")

try:
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # scikit-learn 1.5
    _validate_data = None


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
