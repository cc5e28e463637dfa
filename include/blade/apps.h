// Applications of a trained model without retraining (paper §4, §5): one header for all of them.
#pragma once

#include "blade/resample.h"      // resampling along optical flows, burst alignment
#include "blade/restore.h"       // restoration, deconvolution, upscaling
#include "blade/segmentation.h"  // Chan–Vese segmentation
