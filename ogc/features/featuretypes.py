"""Feature types: a thin view of the layer catalogue (names, properties, querysets) that WFS and the OGC
API both serve.

Every published property comes from `Layer.public_attributes`; nothing else of a model can be read,
filtered or sorted. The geometry property is called `geometry`. Feature ids are `<layer>.<primary key>`
(always an NCName; official ids such as `…/2` are not). What only WFS needs (XSD types, name
resolution with namespaces, feature-id parsing) is in ogc/wfs/featuretypes.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from layers import catalogue
from layers.catalogue import Attribute, Layer

PREFIX = "gisportal"  # the prefix of GISPORTAL_NS in GML output and qualified type names
GEOMETRY = "geometry"
_FIRST = re.compile(r"\[\s*1\s*\]$")  # a step's positional predicate [1]: our properties hold one value


@dataclass(frozen=True)
class FeatureType:
    layer: Layer

    @property
    def name(self) -> str:
        return self.layer.name

    @property
    def typename(self) -> str:
        return f"{PREFIX}:{self.layer.name}"

    @cached_property
    def model(self):
        return catalogue.layer_model(self.layer)

    @property
    def attributes(self) -> tuple[Attribute, ...]:
        return self.layer.public_attributes

    @property
    def property_names(self) -> tuple[str, ...]:
        return (*self.layer.attribute_names, GEOMETRY)

    @property
    def temporal_attribute(self) -> Attribute | None:
        """The attribute FES `During` and OGC API `datetime` apply to: the version date of registry objects."""
        return next((a for a in self.attributes if a.type in ("datetime", "date")), None)

    def queryset(self):
        return catalogue.layer_queryset(self.layer)

    def attribute(self, name: str) -> Attribute | None:
        """The attribute of this exact (case-sensitive) public name, optionally prefixed `gisportal:`, also
        written as a minimum XPath path (FES 2.0 7.4.4): `./nr`, `nr[1]`, `dzialki/nr`,
        `gisportal:dzialki/gisportal:nr`."""
        steps = []
        for step in name.split("/"):
            step = _FIRST.sub("", step.strip())
            if step != ".":
                steps.append(step[len(PREFIX) + 1 :] if step.startswith(PREFIX + ":") else step)
        if len(steps) == 2 and steps[0] == self.name:
            steps = steps[1:]
        if len(steps) != 1:
            return None
        return next((a for a in self.attributes if a.name == steps[0]), None)

    def fid(self, pk: int) -> str:
        return f"{self.name}.{pk}"


def feature_types(user) -> tuple[FeatureType, ...]:
    """The feature types this user may read; label-only layers (numery_dzialek) are not features."""
    return tuple(FeatureType(la) for la in catalogue.layers_for(user) if la.is_dataset)
