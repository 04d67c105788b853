"""BLURD Mask: the segmentation domain-adaptation experiment of the paper (Section 4, Figure 7).

Trains U-Nets (segmentation-models-pytorch) on a dataset folder's renders or diffusion outputs with the rendered
label maps, under the paper's three augmentation regimes (torchvision v2, image and mask together), and scores them
on real photographs (CelebAMask-HQ, remapped onto BLURD's seven classes). torch only, never bpy; importing this
package loads no torch. Modules, one job each:

- ``classes``, ``celeba``, ``pairs``: the classes, the CelebAMask-HQ layout and remap, training pairs and test sets
- ``augment``, ``model``, ``checkpoint``: the regimes, the U-Net and its weights, safetensors training state
- ``train``, ``evaluate``, ``metrics``: the step schedule and resume, scoring, IoU from a confusion matrix
- ``experiment``, ``report``, ``figures``: the source x regime grid, JSON/CSV/Markdown, the Figure 7 plot
- ``cli``: ``python -m blurd.learn --help``
"""

from .errors import LearnError

__all__ = ["LearnError"]
