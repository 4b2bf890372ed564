// Semantic input conversion: BGR order and the original normalisation quirk, zero padding to a multiple of 8
// shared by the batch, labels shifted by one (Misc and unlabelled -> -1) and sampled on the 1/8 grid at the
// pixel PIL's nearest resize picks; clear errors for bad class ids. Expected values are recomputed here from
// the definitions, pixel by pixel.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "models/semantic_batch.hpp"

namespace {

struct Img {
  int64_t h, w;
  std::vector<std::uint8_t> rgb, classes;
};

Img make(int64_t h, int64_t w, int salt) {
  Img im{h, w, std::vector<std::uint8_t>(static_cast<size_t>(h * w * 3)),
         std::vector<std::uint8_t>(static_cast<size_t>(h * w))};
  for (int64_t i = 0; i < h * w * 3; ++i)
    im.rgb[static_cast<size_t>(i)] = static_cast<std::uint8_t>((i * 37 + salt) % 256);
  for (int64_t i = 0; i < h * w; ++i) {
    const int64_t v = (i * 7 + salt) % 16;  // ids 0..13 plus 14, 15 -> mapped to 255 (unlabelled)
    im.classes[static_cast<size_t>(i)] = static_cast<std::uint8_t>(v >= 14 ? 255 : v);
  }
  return im;
}

sdn::models::SemanticImage view(const Img& im) { return {im.h, im.w, im.rgb.data(), im.classes.data()}; }

}  // namespace

TEST(SemanticBatch, NormalisesPadsAndShiftsLabels) {
  const Img a = make(21, 13, 1), b = make(9, 30, 5);
  auto batch = sdn::models::make_semantic_batch({view(a), view(b)});
  // max 21 x 30 -> padded to 24 x 32; labels on the 3 x 4 grid.
  ASSERT_EQ(batch.images.sizes(), torch::IntArrayRef({2, 3, 24, 32}));
  ASSERT_EQ(batch.labels.sizes(), torch::IntArrayRef({2, 3, 4}));
  EXPECT_EQ(batch.sizes[1], (std::array<int64_t, 2>{9, 30}));

  const float mean_bgr[3] = {0.485f * 255, 0.456f * 255, 0.406f * 255};
  const float std_bgr[3] = {0.229f, 0.224f, 0.225f};
  const Img* imgs[2] = {&a, &b};
  for (int n = 0; n < 2; ++n) {
    const Img& im = *imgs[n];
    for (int64_t y = 0; y < 24; ++y)
      for (int64_t x = 0; x < 32; ++x)
        for (int c = 0; c < 3; ++c) {
          const float got = batch.images[n][c][y][x].item<float>();
          if (y >= im.h || x >= im.w) {
            ASSERT_EQ(got, 0.0f) << "padding at " << y << "," << x;
            continue;
          }
          const std::uint8_t rgb_value = im.rgb[static_cast<size_t>((y * im.w + x) * 3 + (2 - c))];  // BGR
          ASSERT_EQ(got, (static_cast<float>(rgb_value) - mean_bgr[c]) / std_bgr[c])
              << n << " " << c << " " << y << " " << x;
        }
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 4; ++j) {
        const int64_t y = 8 * i + 4, x = 8 * j + 4;
        int64_t want = -1;
        if (y < im.h && x < im.w) {
          const int id = im.classes[static_cast<size_t>(y * im.w + x)];
          want = (id == 0 || id == 255) ? -1 : id - 1;
        }
        EXPECT_EQ(batch.labels[n][i][j].item<int64_t>(), want) << n << " cell " << i << "," << j;
      }
  }
  // The fixture really exercises Misc, unlabelled and ordinary classes on the grid.
  EXPECT_GT((batch.labels == -1).sum().item<int64_t>(), 0);
  EXPECT_GT((batch.labels >= 0).sum().item<int64_t>(), 0);
}

TEST(SemanticBatch, QuirkyNormalisationOfOnePixel) {
  // RGB (255, 0, 10): BGR = (10, 0, 255); channel 0 uses mean 0.485*255 and std 0.229 (ImageNet's R values).
  std::vector<std::uint8_t> rgb = {255, 0, 10}, cls = {0};
  auto batch = sdn::models::make_semantic_batch({{1, 1, rgb.data(), cls.data()}});
  EXPECT_NEAR(batch.images[0][0][0][0].item<float>(), (10 - 123.675) / 0.229, 1e-3);
  EXPECT_NEAR(batch.images[0][1][0][0].item<float>(), (0 - 116.28) / 0.224, 1e-3);
  EXPECT_NEAR(batch.images[0][2][0][0].item<float>(), (255 - 103.53) / 0.225, 1e-3);
  EXPECT_EQ(batch.images.sizes(), torch::IntArrayRef({1, 3, 8, 8}));
  EXPECT_EQ(batch.labels[0][0][0].item<int64_t>(), -1);  // (4, 4) is padding
}

TEST(SemanticBatch, FullResolutionLabelsForEvaluation) {
  const Img a = make(5, 6, 3);
  sdn::models::SemanticBatchOptions o;
  o.label_stride = 1;
  auto batch = sdn::models::make_semantic_batch({view(a)}, o);
  ASSERT_EQ(batch.labels.sizes(), torch::IntArrayRef({1, 8, 8}));
  for (int64_t y = 0; y < 8; ++y)
    for (int64_t x = 0; x < 8; ++x) {
      const int64_t want =
          (y < 5 && x < 6) ? sdn::models::training_label(a.classes[static_cast<size_t>(y * 6 + x)]) : -1;
      EXPECT_EQ(batch.labels[0][y][x].item<int64_t>(), want);
    }
}

TEST(SemanticBatch, InferenceWithoutClasses) {
  const Img a = make(8, 8, 0);
  auto batch = sdn::models::make_semantic_batch({{8, 8, a.rgb.data(), nullptr}});
  EXPECT_FALSE(batch.labels.defined());
  EXPECT_THROW(sdn::models::make_semantic_batch({{8, 8, a.rgb.data(), nullptr}, view(a)}), sdn::Error);
}

TEST(SemanticBatch, BadClassIdNamesTheSample) {
  Img a = make(16, 16, 0), b = make(16, 16, 0);
  b.classes[4 * 16 + 12] = 20;  // sampled by cell (0, 1)
  try {
    sdn::models::make_semantic_batch({view(a), view(b)});
    FAIL();
  } catch (const sdn::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("sample 1"), std::string::npos) << what;
    EXPECT_NE(what.find("class id 20"), std::string::npos) << what;
  }
}
