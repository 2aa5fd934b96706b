"""States, places and population groups: the vocabulary every layer shares (a leaf module).

States follow the mobility continuum of DESIGN.md §4.2; places are where a household away from
home stays (Hazus ``self_arranged`` and ``unsheltered`` have no capacity); groups are the
protection groups reported by ``persons_by_group``.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class State(IntEnum):
    """Where a household is on the mobility continuum (DESIGN.md §4.2)."""

    AT_HOME = 0
    ADAPTED = 1
    EVACUATED = 2
    DISPLACED = 3
    RELOCATED = 4  # at home in a new home made during the run (moved or settled)
    TRAPPED = 5
    RETURNED = 6  # back home after displacement


STATE_NAMES = tuple(s.name.lower() for s in State)

PLACES = ("host", "shelter", "camp", "rental", "self_arranged", "unsheltered")
"""Where a displaced or evacuated household stays. ``self_arranged`` (households not seeking
public shelter, Hazus) and ``unsheltered`` have no capacity."""
CAPACITY_PLACES = PLACES[:4]
Place = IntEnum("Place", [p.upper() for p in PLACES], start=0)
#: Places that open on the activation ramp (public response); host and rental are there at once.
RAMPED = (Place.SHELTER, Place.CAMP)

#: Age bands of household members (persons), as in ``population.composition.age_shares``.
AGE_BANDS = ("age_0_4", "age_5_17", "age_18_59", "age_60_plus")
#: Population groups reported by ``persons_by_group``; the first three partition everyone by age.
GROUPS = ("children", "adults", "older_persons", "women", "persons_with_disabilities",
          "children_under_5")
HEAD_TYPES = ("male_headed", "female_headed", "older_person_headed")

#: Why a household made a new home: a proactive move it chose, a planned-relocation programme,
#: settling where it stayed after repeated displacement, or moving for reasons other than the
#: hazard (``people.background_migration_per_year``) (``relocations``' ``cause``).
MOVE_CAUSES = ("proactive", "planned", "settled", "background")
Move = IntEnum("Move", [c.upper() for c in MOVE_CAUSES], start=0)
#: What a damaged home loses, in ``home_losses``: the building and what is in it.
ASSETS = ("structure", "contents")
#: How a household holds its home (``population.renter_share`` rent).
TENURES = ("owner", "renter")

#: Residents at home; ``relocated`` households live in the home they moved to.
AT_HOME_STATES = (State.AT_HOME, State.ADAPTED, State.TRAPPED, State.RETURNED, State.RELOCATED)
AWAY_STATES = (State.EVACUATED, State.DISPLACED)
HOME = np.array(AT_HOME_STATES, dtype=np.uint8)  #: for np.isin(state, HOME)
NO_PLACE = 255  #: ``place`` of households at home
NO_STEP = -1  #: a step counter that has not happened
WAITING = -2  #: ``due_step`` of a displaced household whose dry home waits for a builder

#: Peak-depth bands of the depth-band audit (m) and their labels.
DEPTH_BANDS = (0.0, 0.5, 1.0, 2.0)
DEPTH_BAND_NAMES = ("0-0.5 m", "0.5-1 m", "1-2 m", "over 2 m")
#: Why a household in a wet cell was not displaced (the depth-band audit).
STAY_REASONS = ("defences", "dry_part", "adaptation", "below_threshold", "chance")
