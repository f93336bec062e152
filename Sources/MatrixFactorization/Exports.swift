// The engine's public API uses the rating-data and matrix types directly (a model's factors are
// a `Matrix`, its id maps are `IDMap`s, training takes a `RatingSet`), so importing
// MatrixFactorization is enough. Only those modules' public types come along: their internals
// (BLAS and LAPACK wrappers, SIMD kernels, shared pointers, the thread pool) are SPI
// (`@_spi(Engine)`), visible only to a module that imports them with `@_spi(Engine) import`,
// and stay out of an app's namespace. (They are SPI rather than `package` so that the engine's
// hot loops can inline them across the module boundary; with `package` they stayed calls.)
@_exported import LinearAlgebra
@_exported import RatingData
