// The whole public API of the blade library in one include, and the conventions every header
// follows.
//
// blade solves image PDEs (TV flow, Perona-Malik, coherence-enhancing diffusion, Cahn-Hilliard)
// with classical reference schemes and with BLADE models (Getreuer, Milanfar, Luo, "Solving
// Image PDEs with a Shallow Network").
//
// Conventions:
// - Images (blade/image.h) are planar float32: `channels` planes (1 gray or 3 RGB) of
//   width x height, rows contiguous, values nominally in [0, 1]. Image is move-only; copies
//   are explicit (Copy()). Sizes are checked against MaxPixels() (BLADE_MAX_PIXELS) before
//   any allocation.
// - Errors: every failure throws blade::Error (blade/error.h) with one clear, complete
//   message; bad command-line usage is its subclass UsageError, a run whose state became
//   non-finite is DivergedError (it names the step). Nothing is written on failure: files are
//   written to a temporary name and renamed.
// - Threads: one pool (blade/parallel.h, OpenMP underneath); SetNumThreads(n) sets its size.
//   Work is split by rows or images with no cross-thread reductions in float, so results are
//   bit-identical for every thread count.
// - SIMD kernels are chosen at run time for the CPU (Highway); the plain reference versions
//   they are tested against stay in the library (e.g. SelectReference, ApplyPlaneReference).
// - Units: PDE parameters and times are in operating-grid units (a pixel of the coarse grid
//   has size dx = 1); a solver run with dx = 1/4 on a 4x larger image is the same problem.
#pragma once

#include "blade/apps.h"       // the applications: restoration, resampling, segmentation
#include "blade/convnet.h"    // the learned upscalers' convolutional refiner
#include "blade/error.h"      // Error, UsageError, StrCat
#include "blade/eval.h"       // the kodak4x protocol
#include "blade/filter.h"     // adaptive filtering (eq. 2.1) and its backward pass
#include "blade/image.h"      // the Image type
#include "blade/io.h"         // PNG, JPEG, TIFF, NPY reading and atomic writing
#include "blade/metrics.h"    // PSNR, SSIM
#include "blade/model.h"      // BLADE models, steppers, model files
#include "blade/monotone.h"   // provably stable models: the monotone constraint
#include "blade/ops.h"        // differences, Gaussian blur, resizing, DCT
#include "blade/parallel.h"   // the thread pool
#include "blade/pde.h"        // classical reference solvers
#include "blade/preset.h"     // per-PDE presets
#include "blade/resample.h"   // flows, alignment, resampling (paper section 5)
#include "blade/restore.h"    // restoration, deconvolution, upscaling (paper section 4)
#include "blade/selection.h"  // structure-tensor features and filter selection
#include "blade/train.h"      // training
#include "blade/viz.h"        // pictures: filter banks, features, captioned panels
