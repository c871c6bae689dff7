"""A 3-D image on a regular grid in DICOM patient space (LPS, mm); the Python twin of
extension/src/core/volume.ts.

`voxels` is a numpy array of shape (nz, ny, nx): C order with i (columns) fastest, exactly the memory order of
the TypeScript Volume, and the tensor order [D, H, W] the model sees. `dimensions`, `spacing` follow the
TypeScript convention (i, j, k); `direction[a]` is the LPS unit vector of index axis a; `origin` is the LPS
centre of voxel (0, 0, 0).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Tuple

import numpy as np

Vec3 = Tuple[float, float, float]


@dataclass(frozen=True)
class Volume:
    voxels: np.ndarray  # (nz, ny, nx)
    spacing: Vec3
    origin: Vec3
    direction: Tuple[Vec3, Vec3, Vec3]

    @property
    def dimensions(self) -> Tuple[int, int, int]:
        nz, ny, nx = self.voxels.shape
        return (nx, ny, nz)

    def index_to_world_matrix(self) -> np.ndarray:
        """3x3 M with world = origin + M @ (i, j, k): column a is direction[a] * spacing[a]."""
        return np.stack([np.asarray(self.direction[a], float) * self.spacing[a] for a in range(3)], axis=1)

    def index_to_world(self, index) -> np.ndarray:
        return np.asarray(self.origin, float) + self.index_to_world_matrix() @ np.asarray(index, float)

    def with_voxels(self, voxels: np.ndarray) -> "Volume":
        if voxels.shape != self.voxels.shape:
            raise ValueError(f"voxel shape {voxels.shape} differs from {self.voxels.shape}")
        return replace(self, voxels=voxels)

    def voxel_volume_ml(self) -> float:
        return abs(float(np.linalg.det(self.index_to_world_matrix()))) / 1000.0

    def geometry_dict(self) -> dict:
        """The geometry as the TypeScript VolumeGeometry (for JSON fixtures)."""
        return {
            "dimensions": list(self.dimensions),
            "spacing": [float(s) for s in self.spacing],
            "origin": [float(o) for o in self.origin],
            "direction": [[float(c) for c in axis] for axis in self.direction],
        }
