"""What valid hero data looks like, as Hypothesis strategies."""

from hypothesis import strategies as st

from api.bounds import AGE_MAX, NAME_MAX_LENGTH, SECRET_NAME_MAX_LENGTH

# Surrogates can't be sent as UTF-8, and NUL is refused by contract.
_CHARS = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")

names = st.text(_CHARS, min_size=1, max_size=NAME_MAX_LENGTH)
secret_names = st.text(_CHARS, min_size=1, max_size=SECRET_NAME_MAX_LENGTH)
ages = st.none() | st.integers(min_value=0, max_value=AGE_MAX)
heroes = st.fixed_dictionaries({"name": names, "secret_name": secret_names, "age": ages})
