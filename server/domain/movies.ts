import { randomUUID } from "node:crypto";
import { AlreadyExistsError, NotFoundError } from "./errors.js";

/** One entry of the catalogue. */
export interface Movie {
  readonly id: string;
  readonly title: string;
  readonly director: string;
  /** 0 to 10, one decimal place. */
  readonly rating: number;
}

export interface MovieFilter {
  /** Case-insensitive substring of the title; empty matches every title. */
  readonly titleContains: string;
  /** Case-insensitive substring of the director's name; empty matches every director. */
  readonly directorContains: string;
}

export type MoviePatch = Partial<Omit<Movie, "id">>;

/** Where movies are kept. Implementations hold the SQL; this module holds the rules. */
export interface MovieRepository {
  get(id: string): Promise<Movie | undefined>;
  /**
   * Matching movies ordered by title (ignoring case) then id, fetched in
   * batches: a catalogue is held in memory whole only up to a bounded size.
   */
  list(filter: MovieFilter, signal?: AbortSignal): AsyncIterable<Movie>;
  /** Resolves false, storing nothing, when the id is taken. */
  insert(movie: Movie): Promise<boolean>;
  /** Resolves undefined when there is no such movie. */
  update(id: string, patch: MoviePatch): Promise<Movie | undefined>;
  /** Resolves false when there is no such movie. */
  delete(id: string): Promise<boolean>;
}

/**
 * The catalogue's rules, over any repository. What a request must look like
 * (ids of 1 to 100 letters, digits and '-_.~', titles and directors of 1 to
 * 200 characters with no control characters, ratings from 0 to 10) is in the
 * contract (proto/movie/v1) and checked before a call reaches its handler;
 * here text is trimmed and ratings rounded as they are stored.
 */
export class Movies {
  constructor(private readonly repository: MovieRepository) {}

  async get(id: string): Promise<Movie> {
    const movieId = id.trim();
    const movie = await this.repository.get(movieId);
    if (movie === undefined) throw notFound(movieId);
    return movie;
  }

  list(filter: MovieFilter, signal?: AbortSignal): AsyncIterable<Movie> {
    return this.repository.list({ titleContains: filter.titleContains.trim(), directorContains: filter.directorContains.trim() }, signal);
  }

  async create(input: { id: string; title: string; director: string; rating: number }): Promise<Movie> {
    const movie: Movie = {
      id: input.id.trim() === "" ? randomUUID() : input.id.trim(),
      title: input.title.trim(),
      director: input.director.trim(),
      rating: roundRating(input.rating),
    };
    if (!(await this.repository.insert(movie))) {
      throw new AlreadyExistsError(`a movie with id "${movie.id}" already exists`);
    }
    return movie;
  }

  async update(id: string, changes: { title?: string; director?: string; rating?: number }): Promise<Movie> {
    const movieId = id.trim();
    const patch: { -readonly [K in keyof MoviePatch]: MoviePatch[K] } = {};
    if (changes.title !== undefined) patch.title = changes.title.trim();
    if (changes.director !== undefined) patch.director = changes.director.trim();
    if (changes.rating !== undefined) patch.rating = roundRating(changes.rating);
    const movie = await this.repository.update(movieId, patch);
    if (movie === undefined) throw notFound(movieId);
    return movie;
  }

  async delete(id: string): Promise<void> {
    const movieId = id.trim();
    if (!(await this.repository.delete(movieId))) throw notFound(movieId);
  }
}

/**
 * Ratings keep one decimal place, so a single-precision 7.4 from the
 * tutorial's contract (7.40000009...) is stored and compared as 7.4.
 */
function roundRating(rating: number): number {
  return Math.round(rating * 10) / 10;
}

function notFound(id: string): NotFoundError {
  return new NotFoundError(`no movie has id "${id}"`);
}
