"""The catalog model: what a database holds, as the model classes the YAML builds.

``read_catalog`` reads a database into a :class:`CatalogModel`; ``compare_models`` compares two
of them attribute by attribute. diff's verification, ``check``'s shadow comparison and
``check --db`` compare model to model; ``import`` will write YAML from the same model.
"""

from schemac.catalog.compare import ModelDifference, compare_models
from schemac.catalog.contents import CatalogModel
from schemac.catalog.reader import read_catalog
from schemac.catalog.roles import declared_roles_model, read_roles, roles_model

__all__ = [
    "CatalogModel",
    "ModelDifference",
    "compare_models",
    "declared_roles_model",
    "read_catalog",
    "read_roles",
    "roles_model",
]
