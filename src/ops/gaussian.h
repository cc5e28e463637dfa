// The two paths of GaussianBlur, each forced (private: CED's small kernels and the tests).
#pragma once

#include "blade/image.h"

namespace blade {

// GaussianBlur by one path: direct convolution (any sigma), or the DCT.
Image GaussianBlurDirect(const Image& image, double sigma);
Image GaussianBlurDct(const Image& image, double sigma);

}  // namespace blade
