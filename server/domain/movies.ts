import { randomUUID } from "node:crypto";
import { AlreadyExistsError, NotFoundError, ValidationError } from "./errors.js";
import { optionalText, preview, requiredText } from "./text.js";

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

/** Titles, directors' names and the filters on them, in characters (code points). */
export const maxTextLength = 200;
export const maxIdLength = 100;
const idPattern = /^[A-Za-z0-9._~-]+$/;

/** The catalogue's rules, over any repository. */
export class Movies {
  constructor(private readonly repository: MovieRepository) {}

  async get(id: string): Promise<Movie> {
    const movieId = checkId(id);
    const movie = await this.repository.get(movieId);
    if (movie === undefined) throw notFound(movieId);
    return movie;
  }

  list(filter: MovieFilter, signal?: AbortSignal): AsyncIterable<Movie> {
    const checked = {
      titleContains: optionalText("title_contains", filter.titleContains, maxTextLength),
      directorContains: optionalText("director_contains", filter.directorContains, maxTextLength),
    };
    return this.repository.list(checked, signal);
  }

  async create(input: { id: string; title: string; director: string; rating: number }): Promise<Movie> {
    const movie: Movie = {
      id: input.id.trim() === "" ? randomUUID() : checkId(input.id),
      title: requiredText("title", input.title, maxTextLength),
      director: requiredText("director", input.director, maxTextLength),
      rating: checkRating(input.rating),
    };
    if (!(await this.repository.insert(movie))) {
      throw new AlreadyExistsError(`a movie with id "${movie.id}" already exists`);
    }
    return movie;
  }

  async update(id: string, changes: { title?: string; director?: string; rating?: number }): Promise<Movie> {
    const movieId = checkId(id);
    const patch: { -readonly [K in keyof MoviePatch]: MoviePatch[K] } = {};
    if (changes.title !== undefined) patch.title = requiredText("title", changes.title, maxTextLength);
    if (changes.director !== undefined) patch.director = requiredText("director", changes.director, maxTextLength);
    if (changes.rating !== undefined) patch.rating = checkRating(changes.rating);
    const movie = await this.repository.update(movieId, patch);
    if (movie === undefined) throw notFound(movieId);
    return movie;
  }

  async delete(id: string): Promise<void> {
    const movieId = checkId(id);
    if (!(await this.repository.delete(movieId))) throw notFound(movieId);
  }
}

function checkId(value: string): string {
  const badId = (text: string) =>
    new ValidationError("id", "format", `id must be 1 to ${maxIdLength} letters, digits, '-', '_', '.' or '~', got "${preview(text)}"`);
  // Far too long for an id even with spaces around it: refused before any work on it.
  if (value.length > 2 * maxIdLength) throw badId(value);
  const id = value.trim();
  if (id === "") throw new ValidationError("id", "required", "id is required");
  if (id.length > maxIdLength || !idPattern.test(id)) throw badId(id);
  return id;
}

/**
 * Ratings keep one decimal place, so a single-precision 7.4 from the
 * tutorial's contract (7.40000009...) is stored and compared as 7.4.
 */
function checkRating(rating: number): number {
  if (!Number.isFinite(rating) || rating < 0 || rating > 10) {
    throw new ValidationError("rating", "range", `rating must be from 0 to 10, got ${rating}`);
  }
  return Math.round(rating * 10) / 10;
}

function notFound(id: string): NotFoundError {
  return new NotFoundError(`no movie has id "${id}"`);
}
